/// The one error type the workbench throws for bad input.
///
/// The message is meant for a person: it names the file, the place in it and, where
/// there is one, the fix. The command-line tool prints it on one line and exits non-zero.
///
///     throw WorkbenchError("games.npy: expected dtype int8, found <f4; write games with `othello-gpt games generate`")
public struct WorkbenchError: Error, CustomStringConvertible, Equatable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
