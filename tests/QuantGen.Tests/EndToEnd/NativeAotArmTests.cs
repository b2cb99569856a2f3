using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGen.Tests.Data;
using Xunit.Abstractions;

namespace QuantGen.Tests.EndToEnd;

/// <summary>
/// The AOT mobile path, on Arm: a console app with two generated models (the way a user writes it: QuantModel items,
/// the build task, the generator) published with NativeAOT for linux-arm64, cross-compiled on this x64 machine with
/// Debian's clang, arm64 binutils and arm64 C runtime, and run under qemu-aarch64 on emulated Arm CPUs with and without the
/// dot-product extension (the closest to an Android or iOS NativeAOT build these machines run); and the same app published for
/// linux-x64 and run here. Their outputs must equal each other and the integer simulator bit for bit; the test prints
/// both binary sizes (docs/packaging.md, "NativeAOT on Arm"). Emulation proves what the Arm build computes, not its speed.
/// </summary>
public sealed class NativeAotArmTests(ITestOutputHelper output)
{
    private const int Images = 16;

    /// <summary>Runs each model on images.bin and writes "label index base64(outputs)" lines to outputs.txt.</summary>
    private const string Program = """
        using System.Runtime.InteropServices;
        var images = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes("images.bin")).ToArray();
        int count = int.Parse(args[0]);
        var lines = new System.Text.StringBuilder();
        Run("FashionCnn", new Demo.FashionCnn().Run, Demo.FashionCnn.InputLength, Demo.FashionCnn.OutputLength);
        Run("FashionMobilenet", new Demo.FashionMobilenet().Run, Demo.FashionMobilenet.InputLength, Demo.FashionMobilenet.OutputLength);
        File.WriteAllText("outputs.txt", lines.ToString());
        Console.WriteLine($"{RuntimeInformation.ProcessArchitecture} ran {count}");

        void Run(string label, RunModel run, int inputLength, int outputLength)
        {
            for (int i = 0; i < count; i++)
            {
                var y = new float[outputLength];
                run(images.AsSpan(i * inputLength, inputLength), y);
                lines.Append(label).Append(' ').Append(i).Append(' ').Append(Convert.ToBase64String(MemoryMarshal.AsBytes(y.AsSpan()).ToArray())).Append('\n');
            }
        }

        delegate void RunModel(ReadOnlySpan<float> input, Span<float> output);
        """;

    private const string Items = """
        <QuantModel Include="Models/fashion_cnn.onnx" ClassName="FashionCnn" Namespace="Demo" Calibration="Data/calib.npy" />
        <QuantModel Include="Models/fashion_mobilenet.onnx" ClassName="FashionMobilenet" Namespace="Demo" InputRange="0,1" />
        """;

    [CrossToolchainFact]
    public void LinuxArm64NativeAotRunsUnderQemuBitIdenticalToX64AndTheSimulator()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var project = new ConsumerProject(Items, Program);
        project.Copy(Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_cnn.onnx"), "Models/fashion_cnn.onnx");
        project.Copy(Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_mobilenet.onnx"), "Models/fashion_mobilenet.onnx");
        project.Copy(Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy"), "Data/calib.npy");
        var (images, _) = FashionMnist.TestSet;
        File.WriteAllBytes(project.Path("images.bin"), System.Runtime.InteropServices.MemoryMarshal.AsBytes(images.AsSpan(0, Images * FashionMnist.Pixels)).ToArray());

        // arm64: NativeAOT's default instruction sets (Armv8.0 with AdvSimd, what any arm64 phone runs); the dot-product
        // path is compiled in behind its IsSupported check, which the binary answers at run time.
        var arm = Publish(project, "linux-arm64", null);
        // x64: the build machine's own instruction sets, so the AVX2 (or AVX-512) paths are compiled in, as the FashionMnist sample does.
        var x64 = Publish(project, "linux-x64", "native");
        var publishTime = clock.Elapsed;

        // The cross-compiled binary is an Arm executable, and the dot-product path made it into the machine code.
        var header = File.ReadAllBytes(arm).AsSpan(0, 20).ToArray();
        Assert.True(header[0] == 0x7F && header[1] == (byte)'E' && BitConverter.ToUInt16(header, 18) == 183, "the linux-arm64 binary is not an AArch64 ELF file (e_machine 183)");
        var (dumpCode, disassembly) = Tool(null, "llvm-objdump", "-d", "--no-show-raw-insn", "--mattr=+dotprod", arm);
        Assert.True(dumpCode == 0, disassembly[..Math.Min(2000, disassembly.Length)]);
        int udot = disassembly.Split('\n').Count(l => l.Contains("\tudot\t", StringComparison.Ordinal));
        Assert.True(udot > 0, "no udot instruction in the linux-arm64 binary: the Arm dot-product path was not compiled in");

        // Run: the Arm build under qemu on a CPU with the dot product (-cpu max: udot) and one without (Cortex-A57, Armv8.0:
        // the AdvSimd and scalar paths), the x64 build here; each in the project folder, where it writes outputs.txt.
        var armOutputs = new Dictionary<string, Dictionary<string, float[][]>>();
        foreach (var cpu in new[] { "max", "cortex-a57" })
        {
            var qemu = Tool(project.Directory, "qemu-aarch64", "-cpu", cpu, "-L", CrossToolchainFactAttribute.ArmSysroot, arm, Images.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.True(qemu.Code == 0, $"-cpu {cpu}: {qemu.Output}");
            Assert.Contains("Arm64 ran", qemu.Output);
            armOutputs[cpu] = PlainProjects.ParseLines(File.ReadAllLines(project.Path("outputs.txt")));
        }
        var native = Tool(project.Directory, x64, Images.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(native.Code == 0, native.Output);
        Assert.Contains("X64 ran", native.Output);
        var x64Outputs = PlainProjects.ParseLines(File.ReadAllLines(project.Path("outputs.txt")));

        foreach (var (file, className) in new[] { ("fashion_cnn", "FashionCnn"), ("fashion_mobilenet", "FashionMobilenet") })
        {
            // Each publish quantized in its own obj/ folder: the two artifacts must be the same text.
            var artifacts = Directory.GetFiles(project.Path("obj"), file + ".qgart", SearchOption.AllDirectories);
            Assert.Equal(2, artifacts.Length);
            var text = File.ReadAllText(artifacts[0]);
            Assert.Equal(text, File.ReadAllText(artifacts[1]));
            var simulator = new IntegerSimulator(ArtifactText.Read(text));
            var expected = Enumerable.Range(0, Images)
                .Select(i => simulator.Run(new Dictionary<string, float[]> { ["image"] = images[(i * FashionMnist.Pixels)..((i + 1) * FashionMnist.Pixels)] })["logits"]).ToArray();
            Assert.True(expected.SelectMany(e => e).Distinct().Count() > 30, $"{className}: the simulator's logits take few values");
            PlainProjects.AssertBitIdentical(expected, x64Outputs[className], $"{className}: linux-x64 NativeAOT against the simulator");
            foreach (var (cpu, outputs) in armOutputs)
            {
                PlainProjects.AssertBitIdentical(x64Outputs[className], outputs[className], $"{className}: linux-arm64 NativeAOT under qemu -cpu {cpu} against linux-x64 NativeAOT");
                PlainProjects.AssertBitIdentical(expected, outputs[className], $"{className}: linux-arm64 NativeAOT under qemu -cpu {cpu} against the simulator");
            }
        }
        long armBytes = new FileInfo(arm).Length, x64Bytes = new FileInfo(x64).Length;
        output.WriteLine($"NativeAOT, 2 models (FashionCnn, FashionMobilenet), {Images} images each: linux-arm64 ({udot} udot instructions) under qemu-aarch64 -cpu max and -cpu cortex-a57, "
            + $"and linux-x64 (IlcInstructionSet=native) bit-identical to each other and to the simulator");
        output.WriteLine($"binary sizes (stripped): linux-arm64 {armBytes:N0} bytes ({armBytes / 1048576.0:F2} MiB), linux-x64 {x64Bytes:N0} bytes ({x64Bytes / 1048576.0:F2} MiB)");
        output.WriteLine($"publishing both took {publishTime.TotalSeconds:F0} s, the whole test {clock.Elapsed.TotalSeconds:F0} s");
    }

    /// <summary>
    /// dotnet publish -c Release -r RID with NativeAOT into out-RID/; the executable's path. Invariant globalization: the
    /// arm64 sysroot has no ICU, and a model needs none (a mobile app would set it too, for size).
    /// </summary>
    private static string Publish(ConsumerProject project, string rid, string? instructionSet)
    {
        string[] set = instructionSet is null ? [] : [$"-p:IlcInstructionSet={instructionSet}"];
        var (code, log) = project.Dotnet(["publish", "-nodeReuse:false", "-c", "Release", "-r", rid, "-p:PublishAot=true", "-p:InvariantGlobalization=true", .. set, "-o", project.Path("out-" + rid)]);
        Assert.True(code == 0, $"publish for {rid} failed:\n{log}");
        var executable = project.Path("out-" + rid, "Consumer");
        Assert.True(File.Exists(executable), $"no executable from the {rid} publish:\n{log}");
        return executable;
    }

    /// <summary>Runs a program (in <paramref name="workingDirectory"/> if given) with a time limit; its exit code and output.</summary>
    private static (int Code, string Output) Tool(string? workingDirectory, string program, params string[] args)
    {
        var info = new System.Diagnostics.ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (workingDirectory is not null) info.WorkingDirectory = workingDirectory;
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{program} did not finish in 3 minutes.");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}

/// <summary>
/// A fact that runs only where the linux-arm64 NativeAOT cross toolchain is installed (tests/setup.sh installs it:
/// clang, binutils-aarch64-linux-gnu, llvm, libc6-dev-arm64-cross, libgcc-12-dev-arm64-cross, qemu-user); elsewhere it is skipped, saying what is missing.
/// </summary>
public sealed class CrossToolchainFactAttribute : FactAttribute
{
    public const string ArmSysroot = "/usr/aarch64-linux-gnu";

    public CrossToolchainFactAttribute()
    {
        var missing = Missing().ToArray();
        if (missing.Length > 0)
            Skip = $"the linux-arm64 NativeAOT cross toolchain is not installed (missing: {string.Join(", ", missing)}); run 'bash tests/setup.sh'";
    }

    private static IEnumerable<string> Missing()
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        foreach (var tool in new[] { "clang", "aarch64-linux-gnu-ld.bfd", "llvm-objcopy", "llvm-objdump", "qemu-aarch64" })
            if (!path.Any(d => File.Exists(Path.Combine(d, tool)))) yield return tool;
        foreach (var file in new[] { $"{ArmSysroot}/lib/crt1.o", $"{ArmSysroot}/lib/ld-linux-aarch64.so.1", "/usr/lib/gcc-cross/aarch64-linux-gnu" })
            if (!File.Exists(file) && !Directory.Exists(file)) yield return file;
    }
}
