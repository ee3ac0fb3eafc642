import ArgumentParser

/// One of N deterministic parts of a batch (`--shard K/N`, K from 1 to N).
///
/// An input belongs to shard 1 + (FNV-1a-64(its path as listed) mod N). The assignment depends on
/// the input alone, so it is stable across reruns and does not shift when files are added to the
/// folder; parts are equal in size only on average (within a few per cent for thousands of inputs).
struct Shard: Equatable, CustomStringConvertible {
    /// 1-based.
    let index: Int
    let count: Int

    var description: String { "\(index)/\(count)" }

    func contains(_ input: String) -> Bool {
        Int(Self.fnv1a(input) % UInt64(count)) == index - 1
    }

    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }

    enum ParseError: Error, CustomStringConvertible {
        case malformed(String)
        case environment(String)

        var description: String {
            switch self {
            case .malformed(let text): "--shard \(text): use K/N with 1 ≤ K ≤ N (e.g. 3/8), or auto."
            case .environment(let reason): "--shard auto: \(reason)"
            }
        }
    }

    /// "K/N" as given.
    static func parse(_ text: String) throws(ParseError) -> Shard {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, (1...n).contains(k) else {
            throw .malformed(text)
        }
        return Shard(index: k, count: n)
    }

    /// The shard from a scheduler's environment:
    /// - Slurm job arrays: SLURM_ARRAY_TASK_ID, counted from SLURM_ARRAY_TASK_MIN, out of
    ///   SLURM_ARRAY_TASK_COUNT (`#SBATCH --array=0-7` gives 8 shards);
    /// - Kubernetes indexed Jobs: JOB_COMPLETION_INDEX (0-based), out of LDM_EDIT_SHARD_COUNT
    ///   (Kubernetes does not export the completion count, so the manifest sets it; see docs/scale-out.md).
    /// LDM_EDIT_SHARD_COUNT also overrides Slurm's count (for arrays with holes such as --array=1,3,5).
    static func fromEnvironment(_ env: [String: String]) throws(ParseError) -> Shard {
        func number(_ name: String) throws(ParseError) -> Int? {
            guard let text = env[name], !text.isEmpty else { return nil }
            guard let value = Int(text), value >= 0 else { throw .environment("\(name)=\(text) is not a non-negative number") }
            return value
        }
        let override = try number("LDM_EDIT_SHARD_COUNT")
        let zeroBased: Int
        let count: Int
        if let id = try number("SLURM_ARRAY_TASK_ID") {
            let minimum = try number("SLURM_ARRAY_TASK_MIN") ?? 0
            let slurmCount = try number("SLURM_ARRAY_TASK_COUNT")
            guard let n = override ?? slurmCount else {
                throw .environment("SLURM_ARRAY_TASK_ID is set but neither SLURM_ARRAY_TASK_COUNT nor LDM_EDIT_SHARD_COUNT")
            }
            (zeroBased, count) = (id - minimum, n)
        } else if let index = try number("JOB_COMPLETION_INDEX") {
            guard let n = override else {
                throw .environment("JOB_COMPLETION_INDEX is set (Kubernetes indexed Job) but LDM_EDIT_SHARD_COUNT is not; set it to the Job's completions")
            }
            (zeroBased, count) = (index, n)
        } else {
            throw .environment("no scheduler environment found (SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX); pass --shard K/N")
        }
        guard count >= 1, (0..<count).contains(zeroBased) else {
            throw .environment("task \(zeroBased) (0-based) is outside 0..<\(count)")
        }
        return Shard(index: zeroBased + 1, count: count)
    }
}
