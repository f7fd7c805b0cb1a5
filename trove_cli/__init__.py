"""The ``trove`` command line (extra ``[cli]``)."""
