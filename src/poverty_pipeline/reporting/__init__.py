"""What the pipeline hands to people after a build: the review summary workbooks, the follow-up
lists, the summary table of a run and where every output of a run is."""
