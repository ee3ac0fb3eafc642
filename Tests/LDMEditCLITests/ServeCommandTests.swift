import Foundation
import Testing

/// `ldm-edit serve` as a user starts it: the printed URL, the page and an API call through it, a clean stop,
/// and refusals of bad command lines. (The API itself is tested in LDMServerTests.)
@Suite struct ServeCommandTests {
    @Test func servePrintsAWorkingURLAndStopsOnSIGTERM() throws {
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = ["serve", "--port", "0", "--models", CLI.sample("Tests/LDMModelsTests/Fixtures/models")]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        var printed = Data()
        while !printed.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            printed += chunk
        }
        let line = String(decoding: printed, as: UTF8.self)
        let match = try #require(line.firstMatch(of: /open (http:\/\/127\.0\.0\.1:(\d+)\/\?token=([0-9a-f]{32}))/))
        let (port, token) = (String(match.2), String(match.3))
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        curl.arguments = ["curl", "-s", "-H", "X-LDM-Token: \(token)", "http://127.0.0.1:\(port)/api/models"]
        let reply = Pipe()
        curl.standardOutput = reply
        try curl.run()
        let body = reply.fileHandleForReading.readDataToEndOfFile()
        curl.waitUntilExit()
        let models = try #require((try JSONSerialization.jsonObject(with: body) as? [String: Any])?["models"] as? [[String: Any]])
        #expect(models.contains { $0["name"] as? String == "conv_inp_folder" })
        process.terminate()
        process.waitUntilExit()
        let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(log.contains("model m") && log.contains("conv_inp_folder (inpaint)"))
        #expect(process.terminationStatus == 0, "\(log)")
    }

    @Test func badCommandLinesAreRefused() throws {
        for (arguments, message) in [(["--models", "/nonexistent"], "--models /nonexistent: no such folder"),
                                     (["--max-memory", "lots"], "--max-memory lots"), (["--port", "70000"], "--port must be"),
                                     (["--max-upload", "x"], "--max-upload x")] {
            let r = try CLI.run(["serve"] + arguments)
            #expect(r.status == 64 && r.stderr.contains(message), "\(arguments): \(r.stderr)")
        }
    }

    @Test func anotherHostIsWarnedAbout() throws {
        // 192.0.2.1 (TEST-NET-1) is no address of this machine: it stops right after the warning, so nothing stays open.
        let r = try CLI.run(["serve", "--host", "192.0.2.1", "--port", "0"])
        #expect(r.stderr.contains("reachable from OTHER MACHINES"))
        #expect(r.status == 1)
    }
}
