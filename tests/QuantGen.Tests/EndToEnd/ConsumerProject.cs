using System.Diagnostics;

namespace QuantGen.Tests.EndToEnd;

/// <summary>
/// A throwaway consumer project in a temporary folder that uses QuantGen the way a user does (QuantModel items),
/// wired to this repository's freshly built task, CLI and generator instead of the NuGet package.
/// </summary>
internal sealed class ConsumerProject : IDisposable
{
    private static readonly string Configuration = AppContext.BaseDirectory.Contains("/bin/Release/", StringComparison.Ordinal) ? "Release" : "Debug";

    private string _items;

    public ConsumerProject(string quantModelItems, string program)
    {
        _items = quantModelItems;
        Directory = System.IO.Directory.CreateTempSubdirectory("quantgen-e2e-").FullName;
        var src = System.IO.Path.Combine(TestPaths.RepoRoot, "src");
        CliPath = $"{src}/QuantGen.Cli/bin/{Configuration}/net10.0/QuantGen.Cli.dll";
        File.WriteAllText(System.IO.Path.Combine(Directory, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <Import Project="{TestPaths.RepoRoot}/build/QuantGen.props" />
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <RootNamespace>Consumer</RootNamespace>
                <QuantGenCliPath>{CliPath}</QuantGenCliPath>
                <QuantGenTaskAssembly>{src}/QuantGen.Build/bin/{Configuration}/netstandard2.0/QuantGen.Build.dll</QuantGenTaskAssembly>
                <QuantGenUseTaskHost>true</QuantGenUseTaskHost>
              </PropertyGroup>
              <ItemGroup>
                <Analyzer Include="{src}/QuantGen.Generator/bin/{Configuration}/netstandard2.0/QuantGen.Generator.dll" />
                {quantModelItems}
              </ItemGroup>
              <Import Project="{TestPaths.RepoRoot}/build/QuantGen.targets" />
            </Project>
            """);
        File.WriteAllText(System.IO.Path.Combine(Directory, "Program.cs"), program);
        // An empty Directory.Build.* stops MSBuild from importing the repository's or the temp folder's.
        File.WriteAllText(System.IO.Path.Combine(Directory, "Directory.Build.props"), "<Project />");
        File.WriteAllText(System.IO.Path.Combine(Directory, "Directory.Build.targets"), "<Project />");
    }

    public string Directory { get; }

    /// <summary>The repository's built CLI, which the project's QuantGenCliPath names.</summary>
    public string CliPath { get; }

    /// <summary>Swaps the QuantModel items in the project file, as a user editing metadata would.</summary>
    public void ReplaceItem(string quantModelItems)
    {
        var project = System.IO.Path.Combine(Directory, "Consumer.csproj");
        File.WriteAllText(project, File.ReadAllText(project).Replace(_items, quantModelItems, StringComparison.Ordinal));
        _items = quantModelItems;
    }

    public string Path(params string[] parts) => System.IO.Path.Combine([Directory, .. parts]);

    public void Copy(string source, string relative)
    {
        var target = Path(relative);
        System.IO.Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
        File.Copy(source, target, overwrite: true);
    }

    public (int Code, string Output) Dotnet(params string[] args) => DotnetProcess.Run(Directory, args);

    public (int Code, string Output) Build(params string[] extra) => Dotnet(["build", "-nodeReuse:false", "-v:n", .. extra]);

    /// <summary>Every file under the project folder outside bin/ and obj/, relative, sorted.</summary>
    public string[] UserFiles() => System.IO.Directory.GetFiles(Directory, "*", SearchOption.AllDirectories)
        .Select(f => System.IO.Path.GetRelativePath(Directory, f))
        .Where(f => !f.StartsWith("bin/", StringComparison.Ordinal) && !f.StartsWith("obj/", StringComparison.Ordinal))
        .Order(StringComparer.Ordinal).ToArray();

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

/// <summary>Runs the dotnet CLI as a child process with a time limit and no lingering build nodes.</summary>
internal static class DotnetProcess
{
    public static (int Code, string Output) Run(string workingDirectory, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(4)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(" ", args)} took more than 4 minutes.");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
