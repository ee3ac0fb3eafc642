import Foundation
import Testing

/// `ldm-edit bench`: runs a real (small) case, validates names, reports a broken PyTorch side.
@Suite struct BenchCommandTests {
    @Test func smallCaseRunsAndReportsTimeAndMemory() throws {
        let r = try CLI.run(["bench", "sr-unet-16", "--repeat", "1", "--tsv", "--threads", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        let fields = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\t")
        #expect(fields.count == 4 && fields[0] == "sr-unet-16" && fields[3] == "1", "\(r.stdout)")
        #expect((Double(fields[1]) ?? 0) > 0 && (Int(fields[2]) ?? 0) > 100_000_000, "seconds and peak RSS: \(r.stdout)")
    }

    @Test func unknownCasesAreRefusedBeforeAnyWork() throws {
        for name in ["nope", "sr-unet-12", "vq-decode-1024", "sr-unet", "sd2-unet-12", "x4-step-12"] {
            let r = try CLI.run(["bench", name])
            #expect(r.status == 64 && r.stderr.contains("unknown case \(name)") && r.stderr.contains("sd2-unet-N") && r.stderr.contains("x4-step-N"), "\(name): \(r.stderr)")
        }
    }

    @Test func aFailingPyTorchSideIsReportedPerCase() throws {
        let r = try CLI.run(["bench", "sr-unet-8", "--repeat", "1", "--torch", "/bin/false", "--torch-script", CLI.sample("Scripts/bench/bench_torch.py")])
        #expect(r.status == 1)
        #expect(r.stderr.contains("error: sr-unet-8: the benchmark process exited with status 1"), "\(r.stderr)")
    }
}
