import Foundation
import LDMModels
import LDMPipelines

/// The command line's words for what the libraries report: their errors and warnings carry facts
/// (sizes, tasks, bytes); here they get the flag or command that helps ("--max-memory", "use
/// `ldm-edit upscale`"). Anything without a better wording keeps the library's description.
enum UserMessage {
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as PipelineError: describe(error)
        case let error as CheckpointError: describe(error)
        default: "\(error)"
        }
    }

    static func describe(_ error: PipelineError) -> String {
        switch error {
        case .wrongTask(let model, _): "\(error) (use `ldm-edit \(model.command)`)"
        case .memory(let needed, let budget, let estimate):
            "needs about \(needed >> 20) MiB even with the smallest tiles, above the \(budget >> 20) MiB allowed (--max-memory): \(estimate)"
        case .imageTooSmall: "\(error); upscale it classically first (`ldm-edit upscale --method lanczos`)"
        default: "\(error)"
        }
    }

    static func describe(_ error: CheckpointError) -> String {
        switch error {
        case .wrongTask(_, let found, _): "\(error); use `ldm-edit \(found.command)`"
        case .auditFailed(let path, _): "\(error)\nhint: `ldm-edit inspect \(path)` shows what the file holds"
        default: "\(error)"
        }
    }

    static func describe(_ warning: MaskWarning) -> String {
        switch warning {
        case .mostlyWhite(let fraction): "the mask covers \(Int(fraction * 100)) % of the image (white = repaint; --mask-invert flips it)"
        default: "\(warning)"
        }
    }
}
