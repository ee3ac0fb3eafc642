import ArgumentParser
import Foundation
import LDMBenchmarks
import LDMParallel

extension LDMEdit {
    /// `ldm-edit bench`: whole-model calls on the real architectures (random weights), optionally
    /// side by side with PyTorch/diffusers on the same machine and threads.
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time whole-model calls, optionally against PyTorch on the same machine.",
            discussion: """
                Cases: sr-unet-N, inp-unet-N (full-size SR and inpainting U-Nets at an N×N latent), sd-unet-N (the \
                SD 1.5 inpainting U-Net, batch 2 with a 77-token context, as classifier-free guidance calls it), sd2-unet-N \
                (SD 2 inpainting's: linear projections, 64-channel heads, a 1024-wide context), x4-unet-N \
                (the Stable Diffusion x4 upscaler's U-Net, likewise, with its noise level as class label); sd-step-N, \
                sd2-step-N, x4-step-N (the same U-Nets as a guided sampling step calls them: one latent shared by the \
                two contexts, which ldm-edit runs once up to the first cross-attention; PyTorch gets the latent doubled, \
                as diffusers' pipelines give it); and vq-decode-N (the VQ-f4 decoder from an N×N latent); default \(ModelCases.names.joined(separator: ", ")). Weights are random: they do not change \
                the work. Each case: one warm-up call, then the median of --repeat calls. With --torch, each \
                case also runs in Scripts/bench/bench_torch.py (diffusers, fp32) in a fresh process, one after the \
                other, and the table gets GFLOP/s (FLOPs counted by PyTorch) and the time ratio.
                """)

        @Argument(help: ArgumentHelp("Cases to run (default: all).", valueName: "case"))
        var cases: [String] = []

        @Option(help: "Timed calls per case; the median is reported.")
        var `repeat` = 3

        @Option(help: ArgumentHelp("Python with torch and diffusers, to run the PyTorch side.", valueName: "python"))
        var torch: String?

        @Option(help: ArgumentHelp("The PyTorch twin script.", valueName: "path"))
        var torchScript = "Scripts/bench/bench_torch.py"

        @Flag(help: "Tab-separated output.")
        var tsv = false

        /// Set on the child processes that run one case each (see `run`).
        @Flag(name: .customLong("in-process"), help: .hidden)
        var inProcess = false

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            for name in cases where ModelCases.parse(name) == nil {
                throw ValidationError("unknown case \(name): expected sr-unet-N, inp-unet-N, sd-unet-N, sd2-unet-N, x4-unet-N, sd-step-N, sd2-step-N, x4-step-N or vq-decode-N, N a multiple of 8 up to 512 (default cases: \(ModelCases.names.joined(separator: ", ")))")
            }
            guard self.repeat >= 1 else { throw ValidationError("--repeat must be at least 1, got \(self.repeat).") }
            if torch != nil, !FileManager.default.fileExists(atPath: torchScript) {
                throw ValidationError("\(torchScript): no such file (run from the repository root or give --torch-script)")
            }
        }

        func run() throws {
            global.applyThreads()
            let reporter = Reporter()
            let names = cases.isEmpty ? ModelCases.names : cases
            if !tsv {
                print("threads \(Parallel.threads); median of \(self.repeat) after one warm-up; \(System.onlineProcessorCount) CPUs; SIMD \(ModelCases.simd)")
                print(BenchTable.header(withTorch: torch != nil))
            }
            var failed = false
            for name in names {
                do {
                    // Each case in a fresh process (this binary again, --in-process): a peak RSS taken
                    // after an earlier case would include the heap that case left to the allocator.
                    let ours = inProcess ? try ModelBenchmark.run(name, repeats: self.repeat)
                        : try ChildBenchmark.run(case: name, threads: Parallel.threads, repeats: self.repeat)
                    let theirs = try torch.map { try TorchBenchmark.run(python: $0, script: torchScript, case: name, threads: Parallel.threads, repeats: self.repeat) }
                    print(tsv ? BenchTable.tsv(ours, theirs) : BenchTable.row(ours, theirs))
                } catch {
                    reporter.error("\(name): \(error)")
                    failed = true
                }
            }
            if failed { throw ExitCode(1) }
        }
    }
}
