import Foundation
import LDMModels
import Testing
@testable import LDMEditing

/// Memory sizes as people write them, and where default models are looked for.
@Suite struct SupportTests {
    @Test func memorySizesParseAndPrintExactly() {
        let cases: [(String, Int?)] = [("6G", 6 << 30), ("6GB", 6 << 30), ("6GiB", 6 << 30), ("512m", 512 << 20), ("1.5G", 1536 << 20),
                                       ("123456", 123_456), ("0", nil), ("-1G", nil), ("lots", nil), ("G", nil)]
        for (text, bytes) in cases { #expect(MemorySize.parse(text) == bytes, "\(text)") }
        for bytes in [6 << 30, 800 << 20, 1536 << 20, 123_456, 1 << 40, 3 << 10] {
            #expect(MemorySize.parse(MemorySize.format(bytes)) == bytes)
        }
        #expect(MemorySize.format(6 << 30) == "6G" && MemorySize.format(1536 << 20) == "1536M" && MemorySize.format(1000) == "1000")
    }

    @Test func defaultModelsAreLookedForInOrder() throws {
        let dir = try Fixture.scratch()
        let env = ["LDM_EDIT_MODELS": dir]
        let folders = ModelLocator.searchFolders(environment: env, executable: "/opt/ldm/bin/ldm-edit")
        #expect(folders.first == dir && folders[1] == "/opt/ldm/share/ldm-edit/models" && folders.last?.hasSuffix("/Models") == true)
        #expect(ModelLocator.find("given.ckpt", for: .inpainting, environment: env) == "given.ckpt")
        // Only while no default inpainting model lies in the later folders (the source tree's Models/).
        if ModelLocator.defaultModel(for: .inpainting, environment: env).path == nil {
            #expect(ModelLocator.find(nil, for: .inpainting, environment: env) == nil)
            #expect {
                try ModelLocator.require(nil, for: .inpainting, environment: env)
            } throws: { error in
                guard case EditError.noModel(.inpainting, "ldm-edit-inpaint.safetensors", let searched, let unfinished) = error else { return false }
                return searched == ModelLocator.searchFolders(environment: env)
                    && unfinished == ModelLocator.unfinishedModel(for: .inpainting, in: searched)
            }
            // A model still in training is named, never loaded: the first folder's wins.
            try FileManager.default.createDirectory(atPath: dir + "/training", withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: dir + "/training/ldm-edit-inpaint.safetensors", contents: Data())
            #expect(ModelLocator.find(nil, for: .inpainting, environment: env) == nil)
            #expect {
                try ModelLocator.require(nil, for: .inpainting, environment: env)
            } throws: { error in
                guard case EditError.noModel(.inpainting, _, _, let unfinished) = error else { return false }
                return unfinished == dir + "/training/ldm-edit-inpaint.safetensors"
            }
        }
        // Run from the package root, the source tree's Models/ and ./Models are one folder, listed once.
        let cwd = FileManager.default.currentDirectoryPath
        let fromRoot = ModelLocator.searchFolders(environment: [:], executable: cwd + "/.build/no-such-config/ldm-edit")
        #expect(fromRoot == [cwd + "/.build/share/ldm-edit/models", cwd + "/Models"])
        // The first folder wins.
        _ = FileManager.default.createFile(atPath: dir + "/ldm-edit-sr.safetensors", contents: Data())
        #expect(try ModelLocator.require(nil, for: .superResolution, environment: env) == dir + "/ldm-edit-sr.safetensors")
    }
}
