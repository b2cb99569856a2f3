using System.IO.Compression;
using System.Text.RegularExpressions;
using QuantGen.Core.Quantization;
using Xunit.Abstractions;

namespace QuantGen.Tests.EndToEnd;

/// <summary>
/// The README says what a newcomer types; these tests keep it true: CI runs its two commands verbatim, its operator
/// table is the code's, its quick start builds and runs as written, and packing the repository makes one package.
/// </summary>
public sealed class ReadmeTests(ITestOutputHelper output)
{
    [Fact]
    public void CiRunsBothReadmeCommandsVerbatim()
    {
        var commands = Readme.Commands();
        Assert.Equal(2, commands.Length);
        var ci = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, ".ci", "run"));
        var ciLines = ci.Split('\n').Select(l => l.Trim()).Where(l => !l.StartsWith('#')).ToArray();
        foreach (var command in commands)
            Assert.True(ciLines.Any(l => l.StartsWith(command, StringComparison.Ordinal)), $".ci/run does not run the README's command: {command}");
        // Command 1 before command 2, and command 1's output is checked for the accuracy line it promises.
        Assert.True(ci.IndexOf(commands[0], StringComparison.Ordinal) < ci.LastIndexOf(commands[1], StringComparison.Ordinal), ".ci/run runs the README's commands out of order");
        Assert.Contains("top-1", ci);
    }

    [Fact]
    public void OperatorTableIsTheCodes()
    {
        const string begin = "<!-- operators:begin -->\n", end = "<!-- operators:end -->";
        var text = Readme.Text;
        int from = text.IndexOf(begin, StringComparison.Ordinal) + begin.Length, to = text.IndexOf(end, StringComparison.Ordinal);
        Assert.True(from >= begin.Length && to > from - 1, "README.md lacks the operators:begin/end markers");
        var expected = QuantizedOperators.MarkdownTable();
        if (Environment.GetEnvironmentVariable("QUANTGEN_UPDATE_SNAPSHOTS") == "1" && text[from..to] != expected)
        {
            File.WriteAllText(Readme.Path, text[..from] + expected + text[to..]);
            Assert.Fail("README.md's operator table rewritten: review the diff, then run the test again without QUANTGEN_UPDATE_SNAPSHOTS.");
        }
        Assert.True(text[from..to] == expected, "README.md's operator table differs from QuantizedOperators: run this test with QUANTGEN_UPDATE_SNAPSHOTS=1");
    }

    [Fact]
    public void OperatorTableListsExactlyTheOperatorsTheLayerBuilderHandles()
    {
        // The builder's switch labels and the fusions it looks for after a layer, read from its source.
        var source = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "src", "QuantGen.Core", "Quantization", "LayerGraphBuilder.cs"));
        var handled = Regex.Matches(source, @"case ""(?<op>[A-Za-z]+)"":|OpType: ""(?<op>[A-Za-z]+)""").Select(m => m.Groups["op"].Value).ToHashSet();
        var listed = QuantizedOperators.All.SelectMany(r => r.OpTypes).ToHashSet();
        Assert.True(handled.SetEquals(listed),
            $"LayerGraphBuilder handles [{string.Join(", ", handled.Except(listed))}] that the table lacks; the table lists [{string.Join(", ", listed.Except(handled))}] that it does not handle");
    }

    [Fact]
    public void QuickStartBuildsAndRunsAsWritten()
    {
        var work = Directory.CreateTempSubdirectory("quantgen-quickstart-").FullName;
        try
        {
            // Packages restored into a folder of their own: the machine's NuGet cache must not serve an older QuantGen.
            File.WriteAllText(Path.Combine(work, "nuget.config"), $"""
                <configuration>
                  <config><add key="globalPackagesFolder" value="{Path.Combine(work, "packages")}" /></config>
                </configuration>
                """);
            File.WriteAllText(Path.Combine(work, "Directory.Build.props"), "<Project />");
            File.WriteAllText(Path.Combine(work, "Directory.Build.targets"), "<Project />");
            var app = Path.Combine(work, "MyApp");
            Directory.CreateDirectory(Path.Combine(app, "Models"));
            Directory.CreateDirectory(Path.Combine(app, "Data"));
            File.Copy(RealModels.RealModelPaths.Fashion("fashion_cnn"), Path.Combine(app, "Models", "classifier.onnx"));
            File.Copy(Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy"), Path.Combine(app, "Data", "calibration.npy"));

            // The README's pack command, with its placeholder pointed at this repository.
            var pack = Readme.ShellBlockIn("Use it in your project").Trim().Replace("/path/to/QuantGen", TestPaths.RepoRoot, StringComparison.Ordinal);
            var args = pack.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal("dotnet", args[0]);
            var (code, packLog) = DotnetProcess.Run(app, [.. args[1..], "-nodeReuse:false"]);
            Assert.True(code == 0, packLog);
            var package = Assert.Single(Directory.GetFiles(Path.Combine(app, "quantgen-feed"), "*.nupkg"));
            var version = Path.GetFileNameWithoutExtension(package)["QuantGen.".Length..];
            Assert.Matches(@"^0\.1\.0-dev\.\d+$", version);
            using (var zip = ZipFile.OpenRead(package))
            {
                var entries = zip.Entries.Select(e => e.FullName).ToHashSet();
                Assert.Contains("build/QuantGen.props", entries);
                Assert.Contains("build/QuantGen.targets", entries);
                Assert.Contains("tasks/netstandard2.0/QuantGen.Build.dll", entries);
                Assert.Contains("analyzers/dotnet/cs/QuantGen.Generator.dll", entries);
                Assert.Contains("tools/net10.0/any/QuantGen.Cli.dll", entries);
                Assert.DoesNotContain(entries, e => e.StartsWith("lib/", StringComparison.Ordinal));
            }

            File.WriteAllText(Path.Combine(app, "MyApp.csproj"), Readme.Snippet("csproj"));
            File.WriteAllText(Path.Combine(app, "Program.cs"), Readme.Snippet("program"));
            (code, var log) = DotnetProcess.Run(app, "run");
            Assert.True(code == 0, log);
            var line = log.Split('\n').Single(l => l.StartsWith("input [", StringComparison.Ordinal));
            output.WriteLine($"QuantGen {version}: {line}");
            Assert.Matches(@"^input \[1, 1, 28, 28\] -> class \d$", line.TrimEnd());
            // The build names the model and points at its report.
            var build = DotnetProcess.Run(app, "build", "-v:n", "--no-incremental", "-nodeReuse:false").Output;
            Assert.Contains("quantgen: classifier:", build);
            Assert.Contains("classifier.quant.html", build);
            Assert.True(File.Exists(Path.Combine(app, "obj", "Debug", "net10.0", "quantgen", "classifier.quant.html")), build);
            // At normal verbosity, a line per weighted layer as it finishes.
            Assert.Matches(@"quantgen: classifier: layer 1/\d+ ", build);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public void PackingTheRepositoryMakesOnlyTheQuantGenPackage()
    {
        var feed = Directory.CreateTempSubdirectory("quantgen-rootpack-").FullName;
        try
        {
            // At the root, as a user would type it; pinned, as docs/packaging.md says a release is made.
            var (code, log) = DotnetProcess.Run(TestPaths.RepoRoot, "pack", "-o", feed, "-p:QuantGenPackageVersion=0.1.0-pinned", "-nodeReuse:false");
            Assert.True(code == 0, log);
            var package = Assert.Single(Directory.GetFiles(feed));
            Assert.Equal("QuantGen.0.1.0-pinned.nupkg", Path.GetFileName(package));
        }
        finally
        {
            Directory.Delete(feed, recursive: true);
        }
    }
}
