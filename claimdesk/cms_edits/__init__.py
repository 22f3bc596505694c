"""CMS's edit files in the database: loaded as offices get them, read by date of service.

``store.load_edit_file`` reads an NCCI PTP, MUE, HCPCS Level II or ICD-10-CM file (the
parsers are pure, in ``claimdesk.rules.cms_*``) and keeps every version with its
effective dates; ``lookup.edit_data_for`` hands the snapshot the rows in force on each
date of service. ``claimdesk rules load`` and ``claimdesk rules versions`` call them.
"""
