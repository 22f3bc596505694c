"""Patient billing: the statement and receipt PDFs and who may do what with patient money."""
