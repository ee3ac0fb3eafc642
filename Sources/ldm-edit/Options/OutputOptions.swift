import ArgumentParser
import Foundation
import LDMEditing
import LDMImageIO

/// Where and how results are written.
struct OutputOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp(
        "Output file (one input) or folder (created if missing).",
        discussion: "Without it, each result is written beside its input as <stem>_x4.<ext>; folders need -o.",
        valueName: "path"))
    var output: String?

    static let defaultQuality = 95

    @Option(name: .long, help: "JPEG quality, 1-100.")
    var quality: Int = defaultQuality

    @Option(name: .long, help: ArgumentHelp(
        "Output name template: {stem} (input name without extension), {suffix} (_x4 or _inpainted), {ext}.",
        discussion: "Default: {stem}.{ext} in an output folder, {stem}{suffix}.{ext} beside the input.", valueName: "template"))
    var name: String?

    enum FormatChoice: String, ExpressibleByArgument, CaseIterable { case keep, png, jpg, tiff }
    @Option(name: .long, help: "Output format for folders and templates: keep the input's, or png, jpg, tiff.")
    var format: FormatChoice = .keep

    enum BitDepthChoice: String, ExpressibleByArgument, CaseIterable {
        case keep, eight = "8", sixteen = "16"
        var value: Int? { self == .keep ? nil : (self == .eight ? 8 : 16) }
    }
    @Option(name: .customLong("bit-depth"), help: "Output bit depth: keep, 8 or 16 (JPEG is always 8).")
    var bitDepth: BitDepthChoice = .keep

    @Flag(name: .long, help: "Descend into sub-folders of folder inputs, mirroring the tree into the output folder.")
    var recursive = false

    @Flag(name: .customLong("fail-fast"), help: "Stop at the first failing input (default: report it and go on).")
    var failFast = false

    func validate() throws {
        do { _ = try request() } catch { throw ValidationError(UserMessage.describe(error)) }
        if let name {
            guard name.contains("{stem}") else {
                throw ValidationError("--name \(name): the template needs {stem}, or every input would get the same name.")
            }
            guard name.contains("{ext}") || ImageFormat(pathExtension: (name as NSString).pathExtension) != nil else {
                throw ValidationError("--name \(name): end it with {ext} or a .png, .tif or .jpg extension.")
            }
        }
    }

    /// The output part of the request (the JPEG quality applies to JPEG files only).
    func request() throws(RequestError) -> OutputRequest {
        try OutputRequest(bitDepth: bitDepth.value, jpegQuality: quality)
    }

    /// The naming rules for BatchPlan.
    var naming: BatchPlan.Naming {
        let forced: ImageFormat? = switch format {
        case .keep: nil
        case .png: .png
        case .jpg: .jpeg
        case .tiff: .tiff
        }
        return BatchPlan.Naming(template: name, format: forced, recursive: recursive)
    }
}
