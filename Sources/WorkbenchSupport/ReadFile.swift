import Foundation

/// The contents of the file at `url`, or a one-line `WorkbenchError` naming it when it is missing, a
/// folder or unreadable: every reader of user files starts here, so they all fail alike.
/// `mapped` maps the file into memory instead of copying it (large arrays and weight files).
///
///     let bytes = try readFile(URL(fileURLWithPath: "games.wtb"))
///     let text = try readTextFile(URL(fileURLWithPath: "games.pgn"))
public func readFile(_ url: URL, mapped: Bool = false) throws -> Data {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
        throw WorkbenchError("\(url.path): no such file; check the path")
    }
    guard !isFolder.boolValue else { throw WorkbenchError("\(url.path): is a folder, not a file; pass a file") }
    do { return try Data(contentsOf: url, options: mapped ? .alwaysMapped : []) } catch {
        throw WorkbenchError("\(url.path): cannot read the file (\(error.localizedDescription))")
    }
}

/// The contents of the file at `url` as UTF-8 text (see `readFile`).
public func readTextFile(_ url: URL) throws -> String {
    try utf8Text(readFile(url), source: url.path)
}

/// `data` as UTF-8 text, or a `WorkbenchError` naming `source` (the file the bytes came from).
public func utf8Text(_ data: Data, source: String) throws -> String {
    guard let text = String(data: data, encoding: .utf8) else {
        throw WorkbenchError("\(source): not UTF-8 text")
    }
    return text
}
