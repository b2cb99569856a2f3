using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using QuantGen.Tests.EndToEnd;

namespace QuantGen.Tests.Generator;

/// <summary>
/// Runs an assembly's <c>QuantGenKernelDriver.Run()</c> in another .NET process (tests/QuantGen.KernelHost): a
/// linux-arm64 one under qemu-user, or one on this machine with some instruction sets switched off through the
/// runtime's DOTNET_Enable* settings. The host is built once per host source, under the test binaries. Emulation proves
/// what the Arm paths compute, never how fast they are.
/// </summary>
internal static class KernelHost
{
    /// <summary>Debian's arm64 C runtime (libc6-arm64-cross and friends), the root qemu resolves the host's loader and libraries in.</summary>
    private const string Sysroot = "/usr/aarch64-linux-gnu";

    private const string SetupHint = "run 'bash tests/setup.sh' (it installs qemu-user, libc6-arm64-cross, libstdc++6-arm64-cross and libgcc-s1-arm64-cross)";

    private static readonly string[] Sources = ["QuantGen.KernelHost.csproj", "Program.cs"];

    /// <summary>What the process reported about itself (its architecture and the instruction sets it saw), and the lines the driver returned.</summary>
    public sealed record Result(string Architecture, IReadOnlySet<string> Features, string[] Lines, TimeSpan Elapsed);

    private static readonly Lazy<string> ArmHost = new(() => Build("linux-arm64",
        ["publish", "-r", "linux-arm64", "--self-contained", "-p:InvariantGlobalization=true"], "QuantGen.KernelHost"));

    private static readonly Lazy<string> LocalHost = new(() => Build("local", ["build"], "QuantGen.KernelHost.dll"));

    /// <summary>Runs the driver in <paramref name="assemblyPath"/> on the emulated Arm CPU <paramref name="cpu"/> (a qemu -cpu name).</summary>
    public static Result RunOnArm(string assemblyPath, string cpu)
    {
        var qemu = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "qemu-aarch64")).FirstOrDefault(File.Exists);
        Assert.True(qemu is not null, $"qemu-aarch64 is not on the PATH: {SetupHint}.");
        Assert.True(File.Exists(Path.Combine(Sysroot, "lib", "ld-linux-aarch64.so.1")), $"the arm64 C runtime is missing from {Sysroot}: {SetupHint}.");
        var info = new ProcessStartInfo(qemu);
        foreach (var a in new[] { "-cpu", cpu, "-L", Sysroot, ArmHost.Value, assemblyPath }) info.ArgumentList.Add(a);
        // qemu-user cannot follow the runtime's double mapping of JIT code (write and execute views of one page).
        info.Environment["DOTNET_EnableWriteXorExecute"] = "0";
        return Run(info, $"qemu-aarch64 -cpu {cpu}");
    }

    /// <summary>
    /// Runs the driver on this machine with the given runtime settings, e.g. DOTNET_EnableAVX512=0: the JIT then
    /// treats those instruction sets as absent, so every IsSupported check on them is false, as on a CPU without them.
    /// </summary>
    public static Result RunHere(string assemblyPath, IReadOnlyDictionary<string, string> settings)
    {
        var info = new ProcessStartInfo("dotnet");
        foreach (var a in new[] { LocalHost.Value, assemblyPath }) info.ArgumentList.Add(a);
        foreach (var (name, value) in settings) info.Environment[name] = value;
        return Run(info, string.Join(" ", settings.Select(s => $"{s.Key}={s.Value}")));
    }

    private static Result Run(ProcessStartInfo info, string description)
    {
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        // Full optimization from the first call: the code that runs hot in an application, not tier 0's.
        info.Environment["DOTNET_TieredCompilation"] = "0";
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{description}: the host did not finish in 5 minutes.");
        }
        Assert.True(process.ExitCode == 0, $"{description}: the host exited with {process.ExitCode}:\n{stderr.Result}\n{Head(stdout.Result)}");
        var lines = stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string Field(int i, string key)
        {
            Assert.True(lines.Length > i && lines[i].StartsWith(key + " ", StringComparison.Ordinal), $"line {i} of the host's output is not '{key} …':\n{Head(stdout.Result)}");
            return lines[i][(key.Length + 1)..];
        }
        var features = Field(1, "features").Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        return new Result(Field(0, "architecture"), features, lines[2..], clock.Elapsed);
    }

    /// <summary>
    /// Builds a copy of tests/QuantGen.KernelHost (publish for arm64, build for this machine) under the test binaries in
    /// a folder named by the target and the hash of its sources: built once, then reused until the host changes or the
    /// binaries are cleaned. A copy, not the project itself, so the solution build's obj/ of that project never sees
    /// another runtime's restore.
    /// </summary>
    private static string Build(string target, string[] command, string entry)
    {
        var source = Path.Combine(TestPaths.RepoRoot, "tests", "QuantGen.KernelHost");
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Concat(Sources.Select(f => f + "\0" + File.ReadAllText(Path.Combine(source, f)) + "\0")))))[..16];
        var folder = Path.Combine(AppContext.BaseDirectory, "kernelhost", $"{target}-{hash}");
        var output = Path.Combine(folder, "out", entry);
        var done = Path.Combine(folder, "built");
        if (File.Exists(done) && File.Exists(output)) return output;

        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        Directory.CreateDirectory(folder);
        foreach (var f in Sources) File.Copy(Path.Combine(source, f), Path.Combine(folder, f));
        var (code, log) = DotnetProcess.Run(folder, [.. command, "QuantGen.KernelHost.csproj", "-c", "Release", "-o", "out", "-nodeReuse:false", "-m:1"]);
        Assert.True(code == 0, $"building the {target} kernel host failed (the linux-arm64 runtime pack comes from NuGet):\n{log}");
        File.WriteAllText(done, hash);
        return output;
    }

    private static string Head(string text) => text.Length <= 2000 ? text : text[..2000] + "…";
}
