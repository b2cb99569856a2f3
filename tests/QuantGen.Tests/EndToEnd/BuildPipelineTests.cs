using QuantGen.Core.Artifact;
using QuantGen.Core.IO;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using QuantGen.Tests.Data;
using QuantGen.Tests.RealModels;
using Xunit.Abstractions;

namespace QuantGen.Tests.EndToEnd;

/// <summary>`dotnet build` of a consumer project: QuantModel item → quantized artifact → generated class.</summary>
public sealed class BuildPipelineTests(ITestOutputHelper output)
{
    /// <summary>Reads images.npy, writes logits.npy with the generated class: the test compares them with the simulator.</summary>
    private const string Program = """
        using System.Runtime.InteropServices;
        var images = File.ReadAllBytes("images.npy");
        int count = args.Length > 0 ? int.Parse(args[0]) : 1;
        var pixels = MemoryMarshal.Cast<byte, float>(images.AsSpan(128));
        var model = new Demo.FashionCnn();
        var logits = new float[count * Demo.FashionCnn.OutputLength];
        for (int i = 0; i < count; i++)
            model.Run(pixels.Slice(i * Demo.FashionCnn.InputLength, Demo.FashionCnn.InputLength), logits.AsSpan(i * Demo.FashionCnn.OutputLength, Demo.FashionCnn.OutputLength));
        File.WriteAllBytes("logits.bin", MemoryMarshal.AsBytes(logits.AsSpan()).ToArray());
        Console.WriteLine($"ran {count}");
        """;

    private const string Item = """<QuantModel Include="Models/fashion_cnn.onnx" ClassName="FashionCnn" Namespace="Demo" Calibration="Data/calib.npy" />""";

    private static ConsumerProject Consumer(string item = Item)
    {
        var project = new ConsumerProject(item, Program);
        project.Copy(RealModelPaths.Fashion("fashion_cnn"), "Models/fashion_cnn.onnx");
        project.Copy(Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy"), "Data/calib.npy");
        return project;
    }

    [Fact]
    public void BuildsAClassThatMatchesTheSimulatorAndRebuildsOnlyWhenInputsChange()
    {
        using var project = Consumer();
        var userFiles = project.UserFiles();
        var (code, log) = project.Build();
        Assert.True(code == 0, log);
        Assert.Contains("quantgen: fashion_cnn:", log);
        var artifactPath = project.Path("obj", "Debug", "net10.0", "quantgen", "fashion_cnn.qgart");
        Assert.True(File.Exists(artifactPath), "no artifact in obj/");
        Assert.True(File.Exists(project.Path("obj", "Debug", "net10.0", "quantgen", "fashion_cnn.quant.md")), "no report in obj/");

        // The generated class against the simulator on the artifact the build wrote.
        const int count = 40;
        var (images, _) = FashionMnist.TestSet;
        Npy.Write(project.Path("images.npy"), Tensor.FromArray([count, 784], images[..(count * 784)]));
        Assert.Equal(128, new FileInfo(project.Path("images.npy")).Length - count * 784 * 4);
        var (runCode, runLog) = project.Dotnet("run", "--no-build", "--", count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(runCode == 0, runLog);
        var logits = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(project.Path("logits.bin"))).ToArray();
        var simulator = new IntegerSimulator(ArtifactText.Read(File.ReadAllText(artifactPath)));
        for (int i = 0; i < count; i++)
        {
            var expected = simulator.Run(new Dictionary<string, float[]> { ["image"] = images[(i * 784)..((i + 1) * 784)] })["logits"];
            Assert.Equal(expected, logits[(i * 10)..((i + 1) * 10)]);
        }

        // Nothing changed: no quantization work.
        var stamp = File.GetLastWriteTimeUtc(artifactPath);
        (code, log) = project.Build();
        Assert.True(code == 0, log);
        Assert.DoesNotContain("quantgen: fashion_cnn:", log);
        Assert.Contains("Skipping target \"QuantGenQuantize\"", log);
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(artifactPath));

        // Touching the calibration file, then the model, re-runs it.
        File.SetLastWriteTimeUtc(project.Path("Data", "calib.npy"), DateTime.UtcNow.AddSeconds(5));
        (code, log) = project.Build();
        Assert.True(code == 0, log);
        Assert.Contains("quantgen: fashion_cnn:", log);
        File.SetLastWriteTimeUtc(project.Path("Models", "fashion_cnn.onnx"), DateTime.UtcNow.AddSeconds(10));
        (code, log) = project.Build();
        Assert.Contains("quantgen: fashion_cnn:", log);

        // A new quantizer under an unchanged CLI (QuantGen.Core rebuilt, the CLI kept: its reference assemblies did not
        // change) re-runs it too. The tool is a copy in obj/, so that touching it leaves the repository's build alone.
        var tool = project.Path("obj", "tool");
        var cliDirectory = Path.GetDirectoryName(project.CliPath)!;
        foreach (var file in Directory.GetFiles(cliDirectory)) project.Copy(file, Path.Combine("obj", "tool", Path.GetFileName(file)));
        var cli = $"-p:QuantGenCliPath={Path.Combine(tool, "QuantGen.Cli.dll")}";
        (code, log) = project.Build(cli);
        Assert.True(code == 0, log);
        (code, log) = project.Build(cli);
        Assert.Contains("Skipping target \"QuantGenQuantize\"", log);
        File.SetLastWriteTimeUtc(Path.Combine(tool, "QuantGen.Core.dll"), DateTime.UtcNow.AddSeconds(15));
        (code, log) = project.Build(cli);
        Assert.True(code == 0, log);
        Assert.Contains("quantgen: fashion_cnn:", log);

        // Nothing the user wrote was touched; only obj/ and bin/ are new (plus the files this test made).
        Assert.Equal(userFiles.Concat(["images.npy", "logits.bin"]).Order(StringComparer.Ordinal), project.UserFiles());
        output.WriteLine("first build, no-op build, calibration, model and quantizer touches: as expected");
    }

    [Fact]
    public void PtqOptionsReachTheQuantizerAndChangingThemRequantizes()
    {
        using var project = Consumer("""<QuantModel Include="Models/fashion_cnn.onnx" ClassName="FashionCnn" Namespace="Demo" Calibration="Data/calib.npy" WeightBits="4" Algorithms="cle;adaround" AdaRoundIterations="200" RangeMethod="percentile" PerChannel="false" />""");
        var (code, log) = project.Build();
        Assert.True(code == 0, log);
        var artifactPath = project.Path("obj", "Debug", "net10.0", "quantgen", "fashion_cnn.qgart");
        var artifact = ArtifactText.Read(File.ReadAllText(artifactPath));
        Assert.Equal("bn-fold;cle;adaround", artifact.GetMetadata("algorithms"));
        Assert.Equal("percentile per-tensor", artifact.GetMetadata("weightRanges"));
        Assert.Equal("percentile", artifact.GetMetadata("activationRanges"));
        Assert.Equal("200", artifact.GetMetadata("adaRoundIterations"));
        Assert.Equal("4", artifact.GetMetadata("weightBits"));
        // Per tensor: one weight scale per layer, so every output channel's multiplier is the same.
        Assert.All(artifact.Layers.Where(l => l.Kind == LayerKinds.Conv), l => Assert.Single(l.GetBlob("multiplier").Values.AsArray().Distinct()));
        var report = File.ReadAllText(project.Path("obj", "Debug", "net10.0", "quantgen", "fashion_cnn.quant.md"));
        Assert.Contains("| /conv2/Conv | Conv |", report);
        Assert.Contains("AdaRound 200 iterations", report);
        Assert.Contains("quantgen: fashion_cnn: 6 layers, W4A8 cle;adaround", log);

        // A metadata change alone (the model and calibration untouched) re-runs the quantizer.
        project.ReplaceItem("""<QuantModel Include="Models/fashion_cnn.onnx" ClassName="FashionCnn" Namespace="Demo" Calibration="Data/calib.npy" WeightBits="4" Algorithms="none" />""");
        (code, log) = project.Build();
        Assert.True(code == 0, log);
        Assert.Equal("bn-fold;none", ArtifactText.Read(File.ReadAllText(artifactPath)).GetMetadata("algorithms"));
    }

    /// <summary>
    /// Encodings="…" on the item reaches the quantizer through the MSBuild task: an AIMET 2.0.0 file fixing the first
    /// ReLU's and the logits' grids to steps QuantGen would not choose shows in the artifact and the report; a misspelt
    /// tensor name in the file is QG0085 naming it, with nothing written.
    /// </summary>
    [Fact]
    public void EncodingsOnTheItemFixTheGridsTheyNameAndMisspeltNamesAreQgErrors()
    {
        const string Item = """<QuantModel Include="Models/fashion_cnn.onnx" ClassName="FashionCnn" Namespace="Demo" Calibration="Data/calib.npy" Encodings="Data/cnn.encodings" />""";
        static string Encodings(string relu) => $$"""
            {"version": "2.0.0",
             "encodings": [
               {"name": "{{relu}}", "output_dtype": "uint8", "y_scale": 0.0625, "y_zero_point": 0},
               {"name": "logits", "output_dtype": "uint8", "y_scale": 0.25, "y_zero_point": 100}]}
            """;
        using var project = Consumer(Item);
        File.WriteAllText(project.Path("Data", "cnn.encodings"), Encodings("/Relu_output_0"));
        var (code, log) = project.Build();
        Assert.True(code == 0, log);
        var artifact = ArtifactText.Read(File.ReadAllText(project.Path("obj", "Debug", "net10.0", "quantgen", "fashion_cnn.qgart")));
        var logits = artifact.Tensors.Single(t => t.ElementType == ArtifactElementType.U8 && artifact.Layers.Any(l => l.Kind == LayerKinds.Dequantize && l.Inputs[0] == t.Name));
        Assert.Equal(0.25f, logits.Scale);
        Assert.Equal(100, logits.ZeroPoint);
        var report = File.ReadAllText(project.Path("obj", "Debug", "net10.0", "quantgen", "fashion_cnn.quant.md"));
        Assert.Contains("fixed grids for 2 activations", report);

        File.WriteAllText(project.Path("Data", "cnn.encodings"), Encodings("/Relu_outptu_0"));
        (code, log) = project.Build();
        Assert.NotEqual(0, code);
        var line = log.Split('\n').FirstOrDefault(l => l.Contains("error QG0085", StringComparison.Ordinal));
        Assert.True(line is not null, log);
        Assert.Contains("/Relu_outptu_0", line);
        Assert.DoesNotContain("   at ", log);
        output.WriteLine(line.Trim());
    }

    [Theory]
    [InlineData("""<QuantModel Include="Models/fashion_cnn.onnx" WeightBits="1" />""", "QG0015", "WeightBits")]
    [InlineData("""<QuantModel Include="Models/fashion_cnn.onnx" ActivationBits="12" />""", "QG0015", "use 3 to 8 or 16")]
    [InlineData("""<QuantModel Include="Models/missing.onnx" />""", "QG0001", "missing.onnx")]
    [InlineData("""<QuantModel Include="Models/fashion_cnn.onnx" Calibration="Data/nope.npy" />""", "QG0016", "nope.npy")]
    [InlineData("""<QuantModel Include="Models/fashion_cnn.onnx" Calibration="Data/wrong.npy" />""", "QG0016", "wrong.npy")]
    [InlineData("""<QuantModel Include="Models/einsum.onnx" />""", "QG0003", "Einsum")]
    [InlineData("""<QuantModel Include="Models/fashion_cnn.onnx" Algorithms="cle;turbo" />""", "QG0015", "turbo")]
    [InlineData("""<QuantModel Include="Models/fashion_cnn.onnx" /><QuantModel Include="Data/fashion_cnn.onnx" />""", "QG0018", "same file name")]
    [InlineData("""<QuantModel Include="Models/fashion_cnn.onnx" Algorithms="adaround" />""", "QG0015", "adaround needs calibration")]
    [InlineData("""<QuantModel Include="Models/fashion_cnn.onnx" Compression="factorized" CompressionRatio="0.5" />""", "QG0015", "CompressionRatio=0.5")]
    [InlineData("""<QuantModel Include="Models/fashion_cnn.onnx" />""", "QG0021", "InputRange=")]
    [InlineData("""<QuantModel Include="Models/fashion_cnn.onnx" InputRange="0,1" InputShape="1,28,28" />""", "QG0015", "InputShape")]
    public void ProblemsAreQgErrorsWithTheFileAndNothingIsWritten(string item, string code, string words)
    {
        using var project = Consumer(item);
        Npy.Write(project.Path("Data", "wrong.npy"), Tensor.FromArray([3, 1, 27, 28], new float[3 * 27 * 28]));
        File.WriteAllBytes(project.Path("Models", "einsum.onnx"), BadInput.ModelBuilder.Relu(m => m.Graph.Node[0].OpType = "Einsum"));
        var userFiles = project.UserFiles();
        var (exit, log) = project.Build();
        Assert.NotEqual(0, exit);
        var line = log.Split('\n').FirstOrDefault(l => l.Contains($"error {code}", StringComparison.Ordinal));
        Assert.True(line is not null, $"no {code} error in:\n{log}");
        Assert.Contains(words, line);
        Assert.DoesNotContain("   at ", log);
        Assert.Equal(userFiles, project.UserFiles());
        output.WriteLine(line.Trim());
    }

    /// <summary>
    /// A NativeAOT publish without IlcInstructionSet warns QG0020 (the models would run their scalar kernels), with one it
    /// does not; the target runs on its own here (before PrepareForPublish in a real publish) so no native compile is needed.
    /// </summary>
    [Fact]
    public void NativeAotPublishWithoutAnInstructionSetWarns()
    {
        using var project = Consumer();
        var (restore, restoreLog) = project.Dotnet("restore", "-nodeReuse:false");
        Assert.True(restore == 0, restoreLog);
        var (bare, bareLog) = project.Dotnet("msbuild", "-nodeReuse:false", "-t:QuantGenCheckNativeAotInstructionSet", "-p:PublishAot=true");
        Assert.True(bare == 0, bareLog);
        var line = bareLog.Split('\n').FirstOrDefault(l => l.Contains("warning QG0020", StringComparison.Ordinal));
        Assert.True(line is not null, $"no QG0020 warning in:\n{bareLog}");
        Assert.Contains("fashion_cnn", line);
        Assert.Contains("IlcInstructionSet", line);
        var (set, setLog) = project.Dotnet("msbuild", "-nodeReuse:false", "-t:QuantGenCheckNativeAotInstructionSet", "-p:PublishAot=true", "-p:IlcInstructionSet=native");
        Assert.True(set == 0, setLog);
        Assert.DoesNotContain("QG0020", setLog);
        var (noAot, noAotLog) = project.Dotnet("msbuild", "-nodeReuse:false", "-t:QuantGenCheckNativeAotInstructionSet");
        Assert.True(noAot == 0, noAotLog);
        Assert.DoesNotContain("QG0020", noAotLog);
        output.WriteLine(line.Trim());
    }
}
