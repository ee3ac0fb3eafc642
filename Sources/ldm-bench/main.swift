import Foundation
import LDMBenchmarks
import LDMModels
import LDMParallel
import LDMTensor
#if canImport(Glibc)
import Glibc
#endif

// ldm-bench: kernel benchmarks (not tests). Prints median time, GFLOP/s and threads per case.
//   ldm-bench [--threads N] [--repeat R] [--filter TEXT] [--tsv] [--large]
//   ldm-bench --load CHECKPOINT    time and peak memory of loading every tensor of a model
//   ldm-bench --model CASE [--layers]   one whole-model case (ModelCases); --layers: seconds per traced layer
//   ldm-bench --model NAME [--threads N] [--repeat R]   one whole-model call (ModelCases.names)
// Scripts/bench/bench_kernels.sh runs this and the PyTorch twin side by side.

var threads = System.physicalCoreCount, repeats = 5, filter = "", tsv = false, large = false, layers = false
var modelCase: String?
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--threads": threads = Int(arguments.next() ?? "") ?? threads
    case "--repeat": repeats = max(1, Int(arguments.next() ?? "") ?? repeats)
    case "--filter": filter = arguments.next() ?? ""
    case "--tsv": tsv = true
    case "--large": large = true
    case "--load":
        loadCheckpoint(arguments.next() ?? "")
        exit(0)
    case "--model": modelCase = arguments.next()
    case "--layers": layers = true
    default:
        print("usage: ldm-bench [--threads N] [--repeat R] [--filter TEXT] [--tsv] [--large] | --model CASE [--layers]")
        exit(argument == "--help" || argument == "-h" ? 0 : 64)
    }
}
Parallel.defaultThreads = threads

/// Opens a model and loads every canonical tensor as the layers hold it (`WeightPrecision.default`:
/// 16-bit files stay 16-bit unless LDM_EDIT_WEIGHTS=float32), keeping them all (as a model build would).
func loadCheckpoint(_ path: String) {
    let start = now()
    do {
        let model = try ModelWeights.open(path)
        let opened = now()
        var tensors: [WeightTensor] = []
        for spec in model.parameters { tensors.append(try model.weight(spec.name)) }
        let bytes = tensors.reduce(0) { $0 + $1.bytes }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        print(String(format: "open %.2f s, load %.2f s, %d tensors, %.2f GB held ", opened - start, now() - opened, tensors.count,
                     Double(bytes) / 1e9) + "(\(model.precision.rawValue))" + String(format: ", peak RSS %.2f GB", Double(usage.ru_maxrss) / 1e6))
    } catch {
        print("error: \(error)")
        exit(1)
    }
}

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

if let name = modelCase, layers {
    // One traced call after a warm-up: each layer's seconds, then the totals by kind of layer.
    do {
        let times = try ModelBenchmark.layerTimes(name)
        var kinds: [String: Double] = [:]
        for (layer, seconds) in times {
            print(String(format: "%-48@ %8.3f s", layer as NSString, seconds))
            let kind = ["transformer_blocks", "resnets", "attentions", "samplers", "conv_in", "conv_out", "time_embedding"].first { layer.contains($0) } ?? "other"
            kinds[kind, default: 0] += seconds
        }
        let total = times.reduce(0) { $0 + $1.seconds }
        for (kind, seconds) in kinds.sorted(by: { $0.value > $1.value }) {
            print(String(format: "%-48@ %8.3f s  %5.1f %%", "total \(kind)" as NSString, seconds, 100 * seconds / total))
        }
    } catch {
        print("error: \(error)")
        exit(1)
    }
    exit(0)
}

if let name = modelCase {
    do {
        let result = try ModelBenchmark.run(name, repeats: repeats)
        print("model\t\(name)\t\(result.median)\t\(Double(result.peakResidentBytes ?? 0) / 1e9)\t\(threads)")
    } catch {
        print("error: \(error)")
        exit(1)
    }
    exit(0)
}

let workspace = Workspace()
let cases: [KernelCase]
do {
    cases = try KernelCases.all(workspace: workspace, large: large).filter {
        filter.isEmpty || $0.kernel.contains(filter) || $0.shape.contains(filter)
    }
} catch {
    print("error: \(error)")
    exit(1)
}
if tsv {
    print("kernel\tshape\tmedian_ms\tgflops\tthreads")
} else {
    print("ldm-bench: \(threads) thread(s), median of \(repeats) after 1 warm-up; OpenBLAS \(BLAS.configuration); SIMD \(SIMDLevel.active)")
    print("kernel".padding(toLength: 16, withPad: " ", startingAt: 0) + "shape".padding(toLength: 44, withPad: " ", startingAt: 0)
          + "   median ms    GFLOP/s")
}
for c in cases {
    do {
        try c.run()
        var times: [Double] = []
        for _ in 0..<repeats {
            let start = now()
            try c.run()
            times.append(now() - start)
        }
        times.sort()
        let median = times[times.count / 2]
        let gflops = c.flops / median / 1e9
        if tsv {
            print("\(c.kernel)\t\(c.shape)\t\(median * 1000)\t\(gflops)\t\(threads)")
        } else {
            let ms = String(format: "%12.3f", median * 1000), g = String(format: "%10.1f", gflops)
            print(c.kernel.padding(toLength: 16, withPad: " ", startingAt: 0)
                  + c.shape.padding(toLength: 44, withPad: " ", startingAt: 0) + ms + g)
        }
    } catch {
        print("\(c.kernel) \(c.shape): error: \(error)")
    }
}
if !tsv {
    print("workspace scratch after all cases: \(workspace.allocatedBytes >> 20) MiB in \(workspace.allocations) buffers")
}
