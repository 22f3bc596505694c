"""Code sets as data: CARC, RARC, 277 status, 999 errors, place of service and more.

``claimdesk.codes.loader`` reads them (``load(name)``, ``lookup(name, code)``);
``claimdesk.codes.meanings`` turns them into plain words for the app and letters.
"""
