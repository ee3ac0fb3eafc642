import Foundation
import LDMBenchmarks

/// The PyTorch side of `ldm-edit bench`: Scripts/bench/bench_torch.py in a fresh process (so its peak
/// RSS is the case's own), parsed from its one TSV line.
struct TorchBenchmark {
    let seconds: Double
    let peakResidentBytes: Double
    let gigaFLOPs: Double

    enum Failure: Error, CustomStringConvertible {
        case launch(String, String)
        case failed(status: Int32, output: String)
        case unreadable(String)

        var description: String {
            switch self {
            case .launch(let python, let reason): "could not run \(python): \(reason)"
            case .failed(let status, let output): "the benchmark process exited with status \(status): \(output.suffix(400))"
            case .unreadable(let line): "unexpected output from the benchmark process: \(line.prefix(200))"
            }
        }
    }

    static func run(python: String, script: String, case name: String, threads: Int, repeats: Int) throws -> TorchBenchmark {
        let arguments = [script, "--model", name, "--threads", String(threads), "--repeat", String(repeats)]
        let text = try output(of: python.contains("/") ? python : "/usr/bin/env", python.contains("/") ? arguments : [python] + arguments)
        // torch <TAB> case <TAB> seconds <TAB> peak RSS GB <TAB> threads <TAB> GFLOP
        guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix("torch\t") }) else { throw Failure.unreadable(text) }
        let fields = line.split(separator: "\t")
        guard fields.count >= 6, let seconds = Double(fields[2]), let rss = Double(fields[3]), let flops = Double(fields[5]) else {
            throw Failure.unreadable(String(line))
        }
        return TorchBenchmark(seconds: seconds, peakResidentBytes: rss * 1e9, gigaFLOPs: flops)
    }

    /// Standard output and error of a finished process; throws unless it exited with 0.
    static func output(of executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        do { try process.run() } catch { throw Failure.launch(executable, "\(error)") }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else { throw Failure.failed(status: process.terminationStatus, output: text) }
        return text
    }
}

/// Our side of `ldm-edit bench` for one case, in a child process of this same binary.
enum ChildBenchmark {
    static func run(case name: String, threads: Int, repeats: Int) throws -> ModelBenchmark {
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let text = try TorchBenchmark.output(of: me, ["bench", name, "--in-process", "--tsv", "--threads", String(threads), "--repeat", String(repeats)])
        // case <TAB> median seconds <TAB> peak RSS bytes <TAB> threads
        guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix(name + "\t") }) else { throw TorchBenchmark.Failure.unreadable(text) }
        let fields = line.split(separator: "\t")
        guard fields.count >= 4, let seconds = Double(fields[1]), let rss = Int(fields[2]), let used = Int(fields[3]) else {
            throw TorchBenchmark.Failure.unreadable(String(line))
        }
        return ModelBenchmark(name: name, seconds: [seconds], peakResidentBytes: rss, threads: used)
    }
}
