using System.IO.Compression;
using Xunit.Abstractions;

namespace QuantGen.Tests.EndToEnd;

/// <summary>`dotnet pack` makes the QuantGen package; a fresh project consumes it from a local folder feed, builds and runs.</summary>
public sealed class PackageTests(ITestOutputHelper output)
{
    [Fact]
    public void PackedPackageWorksFromALocalFeed()
    {
        var work = Directory.CreateTempSubdirectory("quantgen-pkg-").FullName;
        try
        {
            var feed = Path.Combine(work, "feed");
            var (code, packLog) = DotnetProcess.Run(work, "pack", Path.Combine(TestPaths.RepoRoot, "src", "QuantGen.Build", "QuantGen.Build.csproj"), "-o", feed, "-nodeReuse:false");
            Assert.True(code == 0, packLog);
            var package = Directory.GetFiles(feed, "QuantGen.*.nupkg").Single();
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
            var version = Path.GetFileNameWithoutExtension(package)["QuantGen.".Length..];

            var app = Path.Combine(work, "app");
            Directory.CreateDirectory(Path.Combine(app, "Models"));
            File.Copy(RealModels.RealModelPaths.Fashion("fashion_mlp"), Path.Combine(app, "Models", "fashion_mlp.onnx"));
            File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
                <configuration>
                  <config><add key="globalPackagesFolder" value="{Path.Combine(work, "packages")}" /></config>
                  <packageSources>
                    <add key="local" value="{feed}" />
                    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
                  </packageSources>
                </configuration>
                """);
            File.WriteAllText(Path.Combine(app, "Directory.Build.props"), "<Project />");
            File.WriteAllText(Path.Combine(app, "Directory.Build.targets"), "<Project />");
            File.WriteAllText(Path.Combine(app, "App.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <Nullable>enable</Nullable>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="QuantGen" Version="{version}" />
                    <QuantModel Include="Models/fashion_mlp.onnx" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(app, "Program.cs"), """
                var model = new App.FashionMlp();
                var output = new float[App.FashionMlp.OutputLength];
                model.Run(new float[App.FashionMlp.InputLength], output);
                Console.WriteLine($"outputs {output.Length}, shape {string.Join("x", App.FashionMlp.InputShape.ToArray())}");
                """);
            (code, var log) = DotnetProcess.Run(app, "run");
            output.WriteLine(log.Split('\n').LastOrDefault(l => l.Contains("outputs", StringComparison.Ordinal)) ?? "");
            Assert.True(code == 0, log);
            Assert.Contains("outputs 10, shape 1x1x28x28", log);
            Assert.Contains("quantgen: fashion_mlp:", DotnetProcess.Run(app, "build", "-v:n", "--no-incremental", "-nodeReuse:false").Output);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
