"""The administration of the court's directory: its API and pages (role admin).

The tables are the courts package's, and so are the functions that write them
and read and write the spreadsheets (courts/directory.py, directory_file.py);
this package only puts them behind staff sign-in, above accounts.
"""
