using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using QuantGen.Tests.EndToEnd;

namespace QuantGen.Tests.Generator;

/// <summary>
/// Runs an assembly's <c>QuantGenArmDriver.Run()</c> in a linux-arm64 .NET process under qemu-user
/// (tests/QuantGen.ArmHost, published self-contained once per host source). Emulation proves what the Arm paths
/// compute, never how fast they are.
/// </summary>
internal static class ArmEmulator
{
    /// <summary>Debian's arm64 C runtime (libc6-arm64-cross and friends), the root qemu resolves the host's loader and libraries in.</summary>
    private const string Sysroot = "/usr/aarch64-linux-gnu";

    private const string SetupHint = "run 'bash tests/setup.sh' (it installs qemu-user, libc6-arm64-cross, libstdc++6-arm64-cross and libgcc-s1-arm64-cross)";

    /// <summary>What the arm64 process reported about itself, and the lines the driver returned.</summary>
    public sealed record Result(string Architecture, bool Dp, bool AdvSimdArm64, string[] Lines, TimeSpan Elapsed);

    private static readonly Lazy<string> Host = new(PublishHost);

    /// <summary>Runs the driver in <paramref name="assemblyPath"/> on the emulated CPU <paramref name="cpu"/> (a qemu -cpu name).</summary>
    public static Result Run(string assemblyPath, string cpu)
    {
        var qemu = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "qemu-aarch64")).FirstOrDefault(File.Exists);
        Assert.True(qemu is not null, $"qemu-aarch64 is not on the PATH: {SetupHint}.");
        Assert.True(File.Exists(Path.Combine(Sysroot, "lib", "ld-linux-aarch64.so.1")), $"the arm64 C runtime is missing from {Sysroot}: {SetupHint}.");
        var host = Host.Value;

        var info = new ProcessStartInfo(qemu) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-cpu", cpu, "-L", Sysroot, host, assemblyPath }) info.ArgumentList.Add(a);
        // qemu-user cannot follow the runtime's double mapping of JIT code (write and execute views of one page).
        info.Environment["DOTNET_EnableWriteXorExecute"] = "0";
        // Full optimization from the first call: the code that runs hot on a real device, not tier 0's.
        info.Environment["DOTNET_TieredCompilation"] = "0";
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"qemu-aarch64 -cpu {cpu} did not finish in 5 minutes.");
        }
        Assert.True(process.ExitCode == 0, $"qemu-aarch64 -cpu {cpu} {host} exited with {process.ExitCode}:\n{stderr.Result}\n{Head(stdout.Result)}");
        var lines = stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string Field(int i, string key)
        {
            Assert.True(lines.Length > i && lines[i].StartsWith(key + " ", StringComparison.Ordinal), $"line {i} of the host's output is not '{key} …':\n{Head(stdout.Result)}");
            return lines[i][(key.Length + 1)..];
        }
        return new Result(Field(0, "architecture"), bool.Parse(Field(1, "dp")), bool.Parse(Field(2, "advsimd-arm64")), lines[3..], clock.Elapsed);
    }

    /// <summary>
    /// Publishes a copy of tests/QuantGen.ArmHost for linux-arm64, self-contained, under the test binaries in a folder
    /// named by the hash of its sources: published once, then reused until the host changes or the binaries are cleaned.
    /// A copy, not the project itself, so the solution build's obj/ of that project never sees the arm64 restore.
    /// </summary>
    private static string PublishHost()
    {
        var source = Path.Combine(TestPaths.RepoRoot, "tests", "QuantGen.ArmHost");
        var files = new[] { "QuantGen.ArmHost.csproj", "Program.cs" };
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Concat(files.Select(f => f + "\0" + File.ReadAllText(Path.Combine(source, f)) + "\0")))))[..16];
        var folder = Path.Combine(AppContext.BaseDirectory, "armhost", hash);
        var executable = Path.Combine(folder, "out", "QuantGen.ArmHost");
        var done = Path.Combine(folder, "published");
        if (File.Exists(done) && File.Exists(executable)) return executable;

        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        Directory.CreateDirectory(folder);
        foreach (var f in files) File.Copy(Path.Combine(source, f), Path.Combine(folder, f));
        var (code, output) = DotnetProcess.Run(folder, "publish", "QuantGen.ArmHost.csproj", "-c", "Release", "-r", "linux-arm64", "--self-contained",
            "-p:InvariantGlobalization=true", "-o", "out", "-nodeReuse:false", "-m:1");
        Assert.True(code == 0, $"publishing the arm64 host failed (the linux-arm64 runtime pack comes from NuGet):\n{output}");
        File.WriteAllText(done, hash);
        return executable;
    }

    private static string Head(string text) => text.Length <= 2000 ? text : text[..2000] + "…";
}
