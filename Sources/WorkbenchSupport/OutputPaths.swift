import Foundation

// Output paths checked before long work, with one-line errors that name the option.

/// Throws unless a file can be created at `path` (its folder exists), before any long work.
public func checkWritable(_ path: String) throws {
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
        throw WorkbenchError("\(path): the folder \(folder) does not exist; create it or choose another --out")
    }
}

/// Creates the output folder `folder` (and its parents) unless it exists, with a one-line error that names
/// `option` when the path is taken by a file or cannot be created.
///
///     try createOutputFolder(URL(fileURLWithPath: out))    // "--out study: a file is in the way; …"
public func createOutputFolder(_ folder: URL, option: String = "--out") throws {
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder) {
        guard isFolder.boolValue else {
            throw WorkbenchError("\(option) \(folder.path): a file is in the way, not a folder; choose another \(option) or move the file")
        }
        return
    }
    do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
        throw WorkbenchError("\(option) \(folder.path): cannot create the folder (a file may be in the way on its path, or it is not writable); choose another \(option)")
    }
}
