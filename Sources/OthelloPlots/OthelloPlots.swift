// OthelloPlots: see the module's other files.
