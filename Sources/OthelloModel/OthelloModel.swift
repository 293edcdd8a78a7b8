// OthelloModel: see the module's other files.
