"""What the pipeline knows before any file arrives, shared by every stage: the submission
contracts (``contracts/*.yml``), the province's administrative units through its reorganisations,
the registry of reporting agencies, and the words for coded values."""
