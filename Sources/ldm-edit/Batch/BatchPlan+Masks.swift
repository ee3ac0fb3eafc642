import LDMEditing

extension BatchPlan {
    /// Pairs every image with its mask from `source` before any work; images without one become
    /// problems (reported, counted as failed). With masks beside the images, `X_mask.*` files are
    /// masks, not inputs. Returns input → mask path.
    mutating func pairMasks(_ source: MaskSource) -> [String: String] {
        if source == .besideImage { exclude(where: MaskSource.isMaskName) }
        var masks: [String: String] = [:]
        for job in jobs {
            do { masks[job.input] = try source.mask(for: job.input) } catch {
                reject(job.input, message: UserMessage.describe(error, mask: nil))
            }
        }
        return masks
    }
}
