"""The declaration contract: what a household declares, as plain Python.

No Django import here: the scoring core, the synthetic generator and the households app all
speak this vocabulary. Values are stable strings stored in the database and in files; labels are
English msgids marked for gettext (translated to Arabic and French by the Django layer).
"""
