"""Where tables come from: files and part-file directories, the mapping file — all ending as the same typed views."""
