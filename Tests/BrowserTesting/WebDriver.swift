import Foundation
#if canImport(Glibc)
import Glibc
#endif
import XCTest

/// A small W3C WebDriver client for headless Chromium through `chromedriver` (Debian's `chromium` and
/// `chromium-driver`): JSON over HTTP, so the browser tests need no Python and no browser library.
///
/// Without chromedriver the tests that use it are skipped — unless `OTHELLO_BROWSER_TESTS=required` (as `.ci/run`
/// sets it), where a missing browser fails the test.
public final class WebDriver {
    let process: Process
    let base: URL
    let session: String

    /// Starts chromedriver on a free port and opens a headless Chromium session.
    public init(width: Int = 1200, height: Int = 900) throws {
        guard let driver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            if ProcessInfo.processInfo.environment["OTHELLO_BROWSER_TESTS"] == "required" {
                throw WebDriverError("chromedriver is missing: install Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")
            }
            throw XCTSkip("no chromedriver (apt-get install chromium chromium-driver); OTHELLO_BROWSER_TESTS=required makes this a failure")
        }
        let port = 9515 + Int(ProcessInfo.processInfo.processIdentifier % 2000)
        process = Process()
        process.executableURL = URL(fileURLWithPath: driver)
        process.arguments = ["--port=\(port)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        base = URL(string: "http://127.0.0.1:\(port)")!
        var ready = false
        for _ in 0..<100 {
            if let status = try? Self.request(base.appendingPathComponent("status"), method: "GET", body: nil) as? [String: Any],
               let value = status["value"] as? [String: Any], value["ready"] as? Bool == true { ready = true; break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        guard ready else { process.terminate(); throw WebDriverError("chromedriver did not start on port \(port)") }
        let capabilities: [String: Any] = ["capabilities": ["alwaysMatch": [
            "browserName": "chrome",
            "goog:chromeOptions": ["args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=\(width),\(height)"]],
            "goog:loggingPrefs": ["browser": "ALL"],
        ]]]
        do {
            let answer = try Self.request(base.appendingPathComponent("session"), method: "POST", body: capabilities) as? [String: Any]
            guard let value = answer?["value"] as? [String: Any], let id = value["sessionId"] as? String else {
                throw WebDriverError("chromedriver gave no session: \(String(describing: answer))")
            }
            session = id
        } catch {
            process.terminate()
            throw error
        }
    }

    deinit {
        _ = try? Self.request(base.appendingPathComponent("session/\(session)"), method: "DELETE", body: nil)
        process.terminate()
        process.waitUntilExit()
    }

    /// Opens `url` and waits for the document to load.
    public func open(_ url: URL) throws { _ = try command("url", ["url": url.absoluteString]) }

    /// Runs `script` (a function body; `arguments` as given) in the page and returns its value.
    @discardableResult
    public func execute(_ script: String, _ arguments: [Any] = []) throws -> Any? {
        try command("execute/sync", ["script": script, "args": arguments])
    }

    /// Waits until `condition` (a JavaScript expression) is true, up to `seconds`.
    public func wait(for condition: String, seconds: Double = 10) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try execute("return !!(\(condition));") as? Bool == true { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let errors = (try? execute("return window.atlasErrors || [];")) ?? []
        throw WebDriverError("timed out waiting for \(condition); page errors: \(String(describing: errors))")
    }

    /// The id of the first element matching a CSS selector.
    public func element(_ selector: String) throws -> String {
        let value = try command("element", ["using": "css selector", "value": selector]) as? [String: Any]
        guard let id = value?.first(where: { $0.key.hasPrefix("element-") })?.value as? String else { throw WebDriverError("no element \(selector)") }
        return id
    }

    public func click(_ selector: String) throws { _ = try command("element/\(try element(selector))/click", [:]) }
    public func type(_ text: String, into selector: String) throws { _ = try command("element/\(try element(selector))/value", ["text": text]) }

    /// The browser's console messages of level SEVERE (errors) since the last call.
    public func consoleErrors() throws -> [String] {
        let entries = try command("se/log", ["type": "browser"]) as? [[String: Any]] ?? []
        return entries.filter { $0["level"] as? String == "SEVERE" }.compactMap { $0["message"] as? String }
    }

    /// A PNG screenshot of the window.
    public func screenshot() throws -> Data {
        guard let text = try command("screenshot", nil, method: "GET") as? String, let data = Data(base64Encoded: text) else {
            throw WebDriverError("no screenshot")
        }
        return data
    }

    private func command(_ path: String, _ body: [String: Any]?, method: String = "POST") throws -> Any? {
        let answer = try Self.request(base.appendingPathComponent("session/\(session)/\(path)"), method: method, body: body) as? [String: Any]
        if let value = answer?["value"] as? [String: Any], let error = value["error"] as? String {
            throw WebDriverError("\(path): \(error): \(value["message"] as? String ?? "")")
        }
        return answer?["value"]
    }

    /// One HTTP/1.1 exchange over a loopback socket (`Connection: close`, the answer read to the end). The tests
    /// speak HTTP themselves: FoundationNetworking's URLSession fails on chromedriver's answers ("Failed writing header").
    static func request(_ url: URL, method: String, body: [String: Any]?) throws -> Any? {
        let payload = try body.map { try JSONSerialization.data(withJSONObject: $0) } ?? Data()
        var head = "\(method) \(url.path) HTTP/1.1\r\nHost: 127.0.0.1:\(url.port ?? 80)\r\nConnection: close\r\n"
        if body != nil { head += "Content-Type: application/json\r\n" }
        head += "Content-Length: \(payload.count)\r\n\r\n"
        let answer = try exchange(port: url.port ?? 80, Data(head.utf8) + payload)
        guard let split = answer.range(of: Data("\r\n\r\n".utf8)) else { throw WebDriverError("\(url): no HTTP answer") }
        let headers = String(decoding: answer[..<split.lowerBound], as: UTF8.self)
        var content = Data(answer[split.upperBound...])
        if headers.lowercased().contains("transfer-encoding: chunked") { content = dechunk(content) }
        return content.isEmpty ? nil : try JSONSerialization.jsonObject(with: content)
    }

    static func exchange(port: Int, _ request: Data) throws -> Data {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw WebDriverError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard connected == 0 else { throw WebDriverError("cannot connect to 127.0.0.1:\(port)") }
        try request.withUnsafeBytes { bytes in
            var sent = 0
            while sent < bytes.count {
                let n = send(fd, bytes.baseAddress! + sent, bytes.count - sent, 0)
                guard n > 0 else { throw WebDriverError("send() failed") }
                sent += n
            }
        }
        // Read to the end of the body: its Content-Length, or the connection's close.
        var answer = Data(), buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if let split = answer.range(of: Data("\r\n\r\n".utf8)) {
                let headers = String(decoding: answer[..<split.lowerBound], as: UTF8.self).lowercased()
                if let line = headers.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
                   let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)),
                   answer.count - split.upperBound >= length { break }
            }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            answer.append(buffer, count: n)
        }
        return answer
    }

    static func dechunk(_ data: Data) -> Data {
        var out = Data(), rest = data[...]
        while let line = rest.range(of: Data("\r\n".utf8)) {
            let size = Int(String(decoding: rest[..<line.lowerBound], as: UTF8.self).trimmingCharacters(in: .whitespaces), radix: 16) ?? 0
            if size == 0 { break }
            let start = line.upperBound
            out.append(rest[start..<(start + size)])
            rest = rest[(start + size + 2)...]
        }
        return out
    }
}

public struct WebDriverError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
