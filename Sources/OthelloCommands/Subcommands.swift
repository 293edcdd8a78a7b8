import ArgumentParser

/// Every subcommand of `othello-gpt`, in the order `--help` lists them.
/// Each lives in its own file in this folder.
let allSubcommands: [ParsableCommand.Type] = [
    StudyCommand.self,
    PerftCommand.self,
    GamesCommand.self,
    RunCommand.self,
    EvalCommand.self,
    CacheCommand.self,
    TrainCommand.self,
    ProbeCommand.self,
    InterveneCommand.self,
    SAECommand.self,
    HeadsCommand.self,
    ScopeCommand.self,
    ServeCommand.self,
    BenchCommand.self,
    FigureCommand.self,
]
