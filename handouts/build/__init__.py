"""Plan jobs and make them: one handout, catalogs in worker processes, packets, the manifest."""
