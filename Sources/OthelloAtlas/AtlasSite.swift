import Foundation
import WorkbenchSupport

/// The atlas's page files (`Site/`: index.html, boards.js (shared with the live explorer), atlas.js, atlas.css — plain HTML/CSS/JS, no build step, no network),
/// copied beside the data.
public enum AtlasSite {
    public static let files = ["index.html", "boards.js", "atlas.js", "atlas.css"]

    /// The text of page file `name` from the module's resources.
    public static func text(_ name: String) throws -> Data {
        let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
        guard let url = Bundle.module.url(forResource: parts[0], withExtension: parts[1], subdirectory: "Site")
            ?? Bundle.module.url(forResource: parts[0], withExtension: parts[1]) else {
            throw WorkbenchError("the atlas's page file \(name) is missing from the tool's resources; rebuild the tool (make build)")
        }
        return try Data(contentsOf: url)
    }

    /// Writes the page files into `folder`.
    public static func write(into folder: URL) throws {
        for name in files { try AtomicFile.write(try text(name), to: folder.appendingPathComponent(name)) }
    }
}
