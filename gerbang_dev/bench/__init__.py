"""`make bench`: every part's benchmark, each reported against a baseline measured in the same run."""
