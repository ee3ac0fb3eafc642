#if canImport(Glibc)
import Glibc
#endif

#if LDM_FUZZING
/// libFuzzer entry point (fuzzing build: `-sanitize=fuzzer,address -DLDM_FUZZING`, see Scripts/fuzz/fuzz.sh).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    _ = FuzzDriver.target.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// Fuzzing build: hands the command line to libFuzzer. SwiftPM links an executable target's `main`
/// to the module's entry point (`--defsym main=ldm_fuzz_main`), so libFuzzer's own `main` cannot be
/// used; `LLVMFuzzerRunDriver` (libFuzzer's documented alternative) is what that `main` calls. The
/// harness is picked once from `LDM_FUZZ_TARGET`.
@main
enum FuzzDriver {
    static let target: FuzzTarget = {
        let name = getenv("LDM_FUZZ_TARGET").map { String(cString: $0) } ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            printError("ldm-fuzz: set LDM_FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n")
            exit(2)
        }
        return target
    }()

    static func main() {
        _ = target
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv, fuzzTestOneInput))
    }
}

/// libFuzzer's `int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*cb)(const uint8_t *, size_t))`.
/// Declared by symbol name: its arguments are three pointers and its result an int, which the Swift
/// and C calling conventions pass alike, and the direct reference makes the linker pull it in.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<Int32>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                     _ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32
#else
/// Replay driver (normal build): `ldm-fuzz TARGET FILE_OR_FOLDER...` runs the harness on every file
/// (folders are walked recursively) and prints how many were accepted. It exits 0 when every input
/// was handled, 2 on a usage error; a real bug crashes it, as under libFuzzer. The test suite runs it
/// over the committed corpora and regressions (Tests/LDMEditCLITests/FuzzCorpusTests.swift).
@main
enum FuzzDriver {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.count == 2, arguments[0] == "--write-image-seeds" {
            do {
                try SeedWriter.write(into: arguments[1])
            } catch {
                printError("ldm-fuzz: \(error)\n")
                exit(1)
            }
            return
        }
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name), arguments.count >= 2 else {
            printError("""
                usage: ldm-fuzz TARGET FILE_OR_FOLDER...
                       ldm-fuzz --write-image-seeds FOLDER
                targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))
                Replays inputs through a fuzz harness; see docs/fuzzing.md for the libFuzzer build.

                """)
            exit(2)
        }
        var files: [String] = []
        for path in arguments.dropFirst() {
            guard collect(path, into: &files) else {
                printError("ldm-fuzz: cannot read \(path)\n")
                exit(2)
            }
        }
        var accepted = 0
        for file in files {
            guard let bytes = read(file) else {
                printError("ldm-fuzz: cannot read \(file)\n")
                exit(2)
            }
            // LDM_FUZZ_VERBOSE names each input before its run, so a crash's log shows which one caused it.
            let verbose = getenv("LDM_FUZZ_VERBOSE") != nil
            if verbose { printError("\(target.rawValue): \(file): ") }
            let ok = bytes.withUnsafeBytes { target.run($0) }
            if verbose { printError(ok ? "accepted\n" : "rejected\n") }
            if ok { accepted += 1 }
        }
        print("\(target.rawValue): \(files.count) inputs, \(accepted) accepted, \(files.count - accepted) rejected with an error, 0 crashes")
    }

    /// Adds `path` (a file, or every regular file under a folder, sorted) to `files`.
    private static func collect(_ path: String, into files: inout [String]) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        if (info.st_mode & S_IFMT) == S_IFREG {
            files.append(path)
            return true
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR, let dir = opendir(path) else { return false }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != ".", name != ".." { names.append(name) }
        }
        for name in names.sorted() where !name.hasPrefix(".") {
            guard collect(path + "/" + name, into: &files) else { return false }
        }
        return true
    }

    private static func read(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = fread(&chunk, 1, chunk.count, file)
            bytes += chunk.prefix(n)
            if n < chunk.count { return ferror(file) == 0 ? bytes : nil }
        }
    }
}
#endif

/// Writes to standard error (Swift 6 forbids touching C's global `stderr` FILE pointer).
func printError(_ message: String) {
    var bytes = Array(message.utf8)
    bytes.withUnsafeMutableBytes { buffer in
        var done = 0
        while done < buffer.count {
            let n = write(2, buffer.baseAddress! + done, buffer.count - done)
            if n <= 0 { return }
            done += n
        }
    }
}
