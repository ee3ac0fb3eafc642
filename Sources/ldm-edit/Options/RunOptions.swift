import ArgumentParser
import Foundation
import LDMEditing

/// How a batch runs: resume, metadata, progress, report, sharding.
struct RunOptions: ParsableArguments {
    @Flag(name: .long, help: ArgumentHelp(
        "Redo every output, even those a previous run finished with the same settings.",
        discussion: "By default a rerun skips an output that exists and was made from the same input bytes, model and settings (checked through the provenance in the file, or the journal with --no-metadata)."))
    var overwrite = false

    @Flag(name: .customLong("no-metadata"), help: ArgumentHelp(
        "Do not embed the provenance (settings, model hash) in outputs.",
        discussion: "ICC profiles are still copied. Resume then uses a .ldm-edit-journal.jsonl file in each output folder."))
    var noMetadata = false

    enum ProgressMode: String, ExpressibleByArgument, CaseIterable {
        case auto, line, log, json, none
    }
    @Option(name: .long, help: ArgumentHelp(
        "Progress: auto (line on a terminal, log otherwise), line (updated in place), log (a line per image), json (JSON Lines events on stdout), none.",
        valueName: "mode"))
    var progress: ProgressMode = .auto

    @Option(name: .long, help: ArgumentHelp(
        "Write a JSON report: per image status, seconds, peak memory and error.", valueName: "file.json"))
    var report: String?

    @Option(name: .long, help: ArgumentHelp(
        "Process only part K of N of the inputs (K/N, 1-based), or read it from Slurm/Kubernetes (auto).",
        discussion: "The split depends only on each input's path, so it is stable across reruns. See docs/scale-out.md.",
        valueName: "K/N|auto"))
    var shard: String?

    func validate() throws {
        if let shard, shard != "auto" {
            do { _ = try Shard.parse(shard) } catch { throw ValidationError(error.description) }
        }
        if let report {
            let folder = (report as NSString).deletingLastPathComponent
            if !folder.isEmpty, !BatchPlan.isDirectory(folder) {
                throw ValidationError("--report \(report): folder \(folder) does not exist.")
            }
        }
    }

    /// The shard to process, nil for all. Reads the environment for `auto`.
    func resolvedShard(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Shard? {
        guard let shard else { return nil }
        do {
            return shard == "auto" ? try Shard.fromEnvironment(environment) : try Shard.parse(shard)
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// The progress style after looking at where standard error goes.
    func resolvedProgress(quiet: Bool) -> ProgressMode {
        switch progress {
        case .auto: quiet ? .none : (Console.shared.standardErrorIsTerminal ? .line : .log)
        case .line: quiet ? .none : .line
        case .json: .json
        case .log, .none: quiet ? .none : progress
        }
    }
}

extension BatchRunner {
    /// A runner of `request` on `editor` for `plan` (cut to the shard), configured from the shared option groups.
    init(plan: BatchPlan, editor: Editor, request: EditRequest, run: RunOptions, output: OutputOptions, global: GlobalOptions) throws {
        var plan = plan
        let shard = try run.resolvedShard()
        if let shard { plan.keep(shard) }
        var editor = editor
        editor.maxPixels = global.maxPixels
        self.init(plan: plan, editor: editor, request: request, maxPixels: global.maxPixels, failFast: output.failFast,
                  overwrite: run.overwrite, embedMetadata: !run.noMetadata, reportPath: run.report, shard: shard,
                  progress: RunProgress(mode: run.resolvedProgress(quiet: global.quiet)))
    }
}
