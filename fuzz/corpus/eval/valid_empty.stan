// A program may have no blocks at all.
