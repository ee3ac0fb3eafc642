import Foundation
import LDMModels
import Testing

@Suite struct CheckpointCommandTests {
    let scratch = Scratch()
    static func fixture(_ name: String) -> String { CLI.sample("Tests/LDMModelsTests/Fixtures/models/" + name) }

    @Test func inspectDescribesACompVisCheckpoint() throws {
        let r = try CLI.run(["inspect", Self.fixture("sr_compvis.ckpt")])
        #expect(r.status == 0, "\(r.stderr)")
        for text in ["format: pytorch-zip", "model: super-resolution (use `ldm-edit upscale`)", "CompVis LatentDiffusion layout",
                     "weights: EMA (present, used", "sha256: ", "other top-level entries: epoch, global_step",
                     "default sampling: dpmpp-2m-karras, 8 steps"] {
            #expect(r.stdout.contains(text), "missing \(text) in:\n\(r.stdout)")
        }
        let raw = try CLI.run(["inspect", Self.fixture("sr_compvis.ckpt"), "--no-ema", "--no-hash"])
        #expect(raw.stdout.contains("weights: raw (EMA present, not used)") && !raw.stdout.contains("sha256"))
    }

    @Test func inspectDescribesADiffusersFolder() throws {
        let r = try CLI.run(["inspect", Self.fixture("inp_diffusers"), "--no-hash"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("unet/diffusion_pytorch_model.bin") && r.stdout.contains("vqvae/diffusion_pytorch_model.safetensors"))
        #expect(r.stdout.contains("model: inpainting (use `ldm-edit inpaint`), diffusers layout"))
        #expect(r.stdout.contains("default sampling: dpmpp-2m-karras, 15 steps"))
    }

    /// The conv-autoencoder folder (Scripts/fixtures/make_conv_autoencoder_fixtures.py): its files, the first
    /// stage and the provenance from model_index.json, which `convert` carries into the metadata.
    @Test func inspectAndConvertAConvAutoencoderFolder() throws {
        let r = try CLI.run(["inspect", Self.fixture("conv_sr_folder"), "--no-hash"])
        #expect(r.status == 0, "\(r.stderr)")
        for text in ["autoencoder/model.safetensors", "model: super-resolution (use `ldm-edit upscale`), diffusers layout",
                     "U-Net: 7→4 channels", "autoencoder: conv-f4", "provenance:", "made_by: make_conv_autoencoder_fixtures.py"] {
            #expect(r.stdout.contains(text), "missing \(text) in:\n\(r.stdout)")
        }
        let out = scratch.file("conv.safetensors")
        let converted = try CLI.run(["convert", Self.fixture("conv_inp_folder"), out, "--dtype", "f16"])
        #expect(converted.status == 0, "\(converted.stderr)")
        let again = try CLI.run(["inspect", out, "--no-hash"])
        for text in ["metadata keys: converted_from, format, ldm_edit_config, ldm_edit_provenance", "model: inpainting", "ldm-edit layout",
                     "U-Net: 9→4 channels", "made_by: make_conv_autoencoder_fixtures.py", "task: inp"] {
            #expect(again.stdout.contains(text), "missing \(text) in:\n\(again.stdout)")
        }
    }

    /// Stable Diffusion's KL first stage (Scripts/fixtures/make_kl_fixtures.py): the diffusers folder (vae/) and the
    /// CompVis single file describe the same model; convert writes a canonical file that inspects the same way.
    @Test func inspectAndConvertAKLFirstStage() throws {
        let summary = "autoencoder: KL-f8, widths [8, 16, 16, 16], 4 latent channels (posterior mean) scaled by 0.18215, mid attention, 111839 parameters"
        for (path, layout) in [(Self.fixture("kl_inp_folder"), "diffusers layout"), (Self.fixture("kl_inp_compvis.safetensors"), "CompVis LatentDiffusion layout")] {
            let r = try CLI.run(["inspect", path, "--no-hash"])
            #expect(r.status == 0, "\(r.stderr)")
            for text in ["model: inpainting (use `ldm-edit inpaint`), " + layout, "U-Net: 9→4 channels", summary] {
                #expect(r.stdout.contains(text), "missing \(text) in:\n\(r.stdout)")
            }
        }
        let out = scratch.file("kl.safetensors")
        // The folder, not the CompVis file: a CompVis file does not store its GroupNorm group count, detection
        // assumes CompVis' 32, which the fixture's 8-wide stages cannot use, and convert writes only what opens again.
        let converted = try CLI.run(["convert", Self.fixture("kl_inp_folder"), out, "--dtype", "f16"])
        #expect(converted.status == 0, "\(converted.stderr)")
        let again = try CLI.run(["inspect", out, "--no-hash"])
        #expect(again.stdout.contains("ldm-edit layout") && again.stdout.contains("autoencoder: KL-f8"), "\(again.stdout)")
    }

    /// Stable Diffusion's U-Net (Scripts/fixtures/make_sd_unet_fixtures.py): the diffusers folder and the CompVis file
    /// are named as the SD 1.x family; convert writes a canonical file that keeps the cross-attention config.
    @Test func inspectAndConvertAStableDiffusionUNet() throws {
        let family = "family: Stable Diffusion 1.x inpainting U-Net (text cross-attention, context width 24, 1 transformer block per attention, conv projections)"
        for (path, layout) in [(CLI.sample("Tests/LDMModelsTests/Fixtures/parity/sd1"), "diffusers layout"),
                               (Self.fixture("sd1_compvis.safetensors"), "CompVis LatentDiffusion layout")] {
            let r = try CLI.run(["inspect", path, "--no-hash"])
            #expect(r.status == 0, "\(r.stderr)")
            for text in ["model: inpainting (use `ldm-edit inpaint`), " + layout, family, "U-Net: 9→4 channels, widths [16, 32]"] {
                #expect(r.stdout.contains(text), "missing \(text) in:\n\(r.stdout)")
            }
        }
        let out = scratch.file("sd.safetensors")
        let converted = try CLI.run(["convert", CLI.sample("Tests/LDMModelsTests/Fixtures/parity/sd1"), out, "--dtype", "f16"])
        #expect(converted.status == 0, "\(converted.stderr)")
        let again = try CLI.run(["inspect", out, "--no-hash"])
        #expect(again.stdout.contains("ldm-edit layout") && again.stdout.contains(family), "\(again.stdout)")
    }

    @Test func inspectFailuresExitWithOne() throws {
        let missing = try CLI.run(["inspect", scratch.file("nope.ckpt")])
        #expect(missing.status == 1 && missing.stderr.contains("nope.ckpt: no such file or folder"))
        let stateDict = try CLI.run(["inspect", CLI.sample("Tests/LDMModelsTests/Fixtures/tiny_state_dict.bin"), "--no-hash"])
        #expect(stateDict.status == 1)
        #expect(stateDict.stdout.contains("format: pytorch-zip") && stateDict.stderr.contains("unsupported model"))
    }

    @Test func convertWritesALoadableCanonicalFile() throws {
        let out = scratch.file("inp.safetensors")
        // The pipelines' CompVis checkpoint: the tiny ones in models/ have widths CompVis' 32 GroupNorm
        // groups do not divide, and convert writes only files that open again.
        let r = try CLI.run(["convert", CLI.sample("Tests/LDMPipelinesTests/Fixtures/inp_compvis.ckpt"), out, "--dtype", "bf16"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("inpainting model") && r.stderr.contains("EMA weights"))
        let model = try ModelWeights.open(out)
        #expect(model.layout == .canonical && model.task == .inpainting)
        #expect(model.sources[0].tensors.values.allSatisfy { $0.dtype == .bf16 })
        let again = try CLI.run(["inspect", out, "--no-hash"])
        #expect(again.stdout.contains("ldm-edit layout"))
    }

    @Test func convertRejectsBadArguments() throws {
        let wrongExtension = try CLI.run(["convert", Self.fixture("sr_compvis.ckpt"), scratch.file("out.ckpt")])
        #expect(wrongExtension.status == 64 && wrongExtension.stderr.contains("must be a .safetensors file"))
        let broken = scratch.file("broken.ckpt")
        try Data("not a checkpoint at all".utf8).write(to: URL(fileURLWithPath: broken))
        let r = try CLI.run(["convert", broken, scratch.file("x.safetensors")])
        #expect(r.status == 1 && r.stderr.contains("broken.ckpt"))
        #expect(!FileManager.default.fileExists(atPath: scratch.file("x.safetensors")))
    }
}
