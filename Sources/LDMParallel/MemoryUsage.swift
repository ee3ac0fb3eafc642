#if canImport(Glibc)
import Glibc
#endif

/// Resident memory of this process and free memory of the machine, from Linux's /proc.
extension System {
    /// Peak resident set size (VmHWM) since the start or the last `resetPeakResident()`; nil where
    /// /proc is unreadable.
    public static var peakResidentBytes: Int? { procStatusKilobytes("VmHWM:").map { $0 * 1024 } }

    /// Current resident set size (VmRSS).
    public static var residentBytes: Int? { procStatusKilobytes("VmRSS:").map { $0 * 1024 } }

    /// Restarts the peak measurement (Linux ≥ 4.0: writing 5 to /proc/self/clear_refs resets
    /// VmHWM to the current RSS), so each image of a batch gets its own peak. Returns false where
    /// the kernel refuses; the peak then stays the process-lifetime one.
    @discardableResult
    public static func resetPeakResident() -> Bool {
        guard let file = fopen("/proc/self/clear_refs", "w") else { return false }
        let ok = fputs("5", file) >= 0
        return fclose(file) == 0 && ok
    }

    /// Memory the kernel could give without swapping (MemAvailable), or nil.
    public static var availableMemoryBytes: Int? { fieldKilobytes("/proc/meminfo", "MemAvailable:").map { $0 * 1024 } }

    private static func procStatusKilobytes(_ field: String) -> Int? { fieldKilobytes("/proc/self/status", field) }

    /// The number after `field` on its line ("VmHWM:   12345 kB").
    private static func fieldKilobytes(_ path: String, _ field: String) -> Int? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 256)
        while fgets(&buffer, Int32(buffer.count), file) != nil {
            let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard line.hasPrefix(field) else { continue }
            return Int(line.dropFirst(field.count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "")
        }
        return nil
    }
}
