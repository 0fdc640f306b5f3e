"""What a run hands back: the grade tables and plots, the class's misconceptions, formgrader on a run."""
