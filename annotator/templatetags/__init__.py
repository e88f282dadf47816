"""Template filters of the annotator's pages."""
