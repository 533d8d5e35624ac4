"""Plan jobs and make them: one handout, catalogs in worker processes, packets, the manifest.

(Named jobs, not build: handouts.build is the public build() function.)
"""
