"""A landed file to its outcome: discover → read (under limits) → normalise → validate with the
Great Expectations suites → load into raw and audit, with a feedback report per file and the
Data Docs site. ``batch.ingest_files`` runs the whole chain for a batch; ``template`` writes the
workbook communes fill in."""
