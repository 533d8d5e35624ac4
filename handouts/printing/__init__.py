"""Printing: send a handout or a packet to a CUPS queue, log it, and leave no patient data behind.

Doors reach it through handouts.commands.print_() (and purge_print_job()), which plan, gate and
render as every other command does; this package only talks to CUPS and keeps the print log.
"""
