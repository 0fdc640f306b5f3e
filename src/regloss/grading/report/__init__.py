"""What a run hands back: tables, misconceptions, the LMS files, formgrader on a run."""
