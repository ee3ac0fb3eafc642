import Foundation
import LDMBenchmarks

/// Rows of `ldm-edit bench`'s table: ours, then PyTorch's and the ratio when it ran.
enum BenchTable {
    static func header(withTorch: Bool) -> String {
        let ours = pad("case", 14) + pad("ours s", 10, right: true) + pad("RSS GB", 9, right: true)
        guard withTorch else { return ours }
        return ours + pad("GFLOP/s", 9, right: true) + pad("torch s", 10, right: true) + pad("RSS GB", 9, right: true)
            + pad("GFLOP/s", 9, right: true) + pad("ours/torch", 12, right: true)
    }

    static func row(_ ours: ModelBenchmark, _ theirs: TorchBenchmark?) -> String {
        let rss = Double(ours.peakResidentBytes ?? 0) / 1e9
        var line = pad(ours.name, 14) + number(ours.median, 10, 3) + number(rss, 9, 2)
        guard let theirs else { return line }
        line += number(theirs.gigaFLOPs / ours.median, 9, 1) + number(theirs.seconds, 10, 3)
            + number(theirs.peakResidentBytes / 1e9, 9, 2) + number(theirs.gigaFLOPs / theirs.seconds, 9, 1)
            + number(ours.median / theirs.seconds, 12, 2)
        return line
    }

    /// case, ours s, ours peak RSS bytes, threads[, torch s, torch RSS bytes, GFLOP, ours/torch].
    static func tsv(_ ours: ModelBenchmark, _ theirs: TorchBenchmark?) -> String {
        var fields = [ours.name, String(ours.median), String(ours.peakResidentBytes ?? 0), String(ours.threads)]
        if let theirs {
            fields += [String(theirs.seconds), String(Int(theirs.peakResidentBytes)), String(theirs.gigaFLOPs), String(ours.median / theirs.seconds)]
        }
        return fields.joined(separator: "\t")
    }

    private static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let space = String(repeating: " ", count: max(0, width - text.count))
        return right ? space + text : text + space
    }

    private static func number(_ value: Double, _ width: Int, _ decimals: Int) -> String {
        pad(String(format: "%.\(decimals)f", value), width, right: true)
    }
}
