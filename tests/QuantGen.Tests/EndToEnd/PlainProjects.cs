using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;

namespace QuantGen.Tests.EndToEnd;

/// <summary>
/// A throwaway pair of projects in a temporary folder, written the way a user without the QuantGen package writes them:
/// Lib/ a class library of some target (netstandard2.1, C# 9, warnings as errors, no packages) and Host/ a net10.0
/// console program that references it and runs models on Fashion-MNIST images, writing one line per model and image:
/// "label index base64(output floats)". What goes into Lib (generated files, or the generator and artifacts) is up to the test.
/// </summary>
internal sealed class PlainProjects : IDisposable
{
    public PlainProjects()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("quantgen-plain-").FullName;
        // An empty Directory.Build.* stops MSBuild from importing the repository's or the temp folder's.
        File.WriteAllText(Path("Directory.Build.props"), "<Project />");
        File.WriteAllText(Path("Directory.Build.targets"), "<Project />");
    }

    public string Directory { get; }

    public string Path(params string[] parts) => System.IO.Path.Combine([Directory, .. parts]);

    /// <summary>The generator as the package's analyzers/ folder would hold it, freshly built.</summary>
    public static string GeneratorPath => System.IO.Path.Combine(TestPaths.RepoRoot, "src", "QuantGen.Generator", "bin",
        AppContext.BaseDirectory.Contains("/bin/Release/", StringComparison.Ordinal) ? "Release" : "Debug", "netstandard2.0", "QuantGen.Generator.dll");

    /// <summary>
    /// Lib/Lib.csproj: <paramref name="targetFramework"/>, LangVersion 9, nullable, warnings as errors, no implicit
    /// usings, nothing restored but the target's reference pack; <paramref name="items"/> adds what the test needs.
    /// </summary>
    public void WriteLibrary(string targetFramework, string items = "", string properties = "")
    {
        System.IO.Directory.CreateDirectory(Path("Lib"));
        File.WriteAllText(Path("Lib", "Lib.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>{targetFramework}</TargetFramework>
                <LangVersion>9</LangVersion>
                <Nullable>enable</Nullable>
                <ImplicitUsings>disable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <EmitCompilerGeneratedFiles>true</EmitCompilerGeneratedFiles>
                {properties}
              </PropertyGroup>
              <ItemGroup>
                {items}
              </ItemGroup>
            </Project>
            """);
    }

    /// <summary>
    /// Host/Host.csproj (net10.0) referencing Lib, running each (label, model type) on the first <c>count</c> images of
    /// images.bin (raw floats) and writing the lines to the file named by its second argument.
    /// </summary>
    public void WriteHost(IEnumerable<(string Label, string Type)> models, string items = "")
    {
        System.IO.Directory.CreateDirectory(Path("Host"));
        File.WriteAllText(Path("Host", "Host.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>disable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <EmitCompilerGeneratedFiles>true</EmitCompilerGeneratedFiles>
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="../Lib/Lib.csproj" />
                {items}
              </ItemGroup>
            </Project>
            """);
        var program = new StringBuilder("""
            using System;
            using System.IO;
            using System.Runtime.InteropServices;

            var images = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(args[0])).ToArray();
            int count = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
            var lines = new System.Text.StringBuilder();

            """);
        foreach (var (label, type) in models)
            program.Append($$"""
                {
                    var model = new {{type}}();
                    for (int i = 0; i < count; i++)
                    {
                        var y = new float[{{type}}.OutputLength];
                        model.Run(images.AsSpan(i * {{type}}.InputLength, {{type}}.InputLength), y);
                        lines.Append("{{label}} ").Append(i).Append(' ').Append(Convert.ToBase64String(MemoryMarshal.AsBytes(y.AsSpan()).ToArray())).Append('\n');
                    }
                }

                """);
        program.Append("File.WriteAllText(args[2], lines.ToString());\nConsole.WriteLine(\"ran \" + count);\n");
        File.WriteAllText(Path("Host", "Program.cs"), program.ToString());
    }

    /// <summary>Builds Host (and so Lib); the whole log, for the assertion message.</summary>
    public (int Code, string Output) Build() => DotnetProcess.Run(Path("Host"), "build", "-nodeReuse:false", "-v:n", "-clp:Summary");

    /// <summary>Runs the built host on <paramref name="images"/> (count × 784 floats): label → one output array per image.</summary>
    public Dictionary<string, float[][]> Run(float[] images, int count)
    {
        File.WriteAllBytes(Path("images.bin"), System.Runtime.InteropServices.MemoryMarshal.AsBytes(images.AsSpan(0, count * 784)).ToArray());
        var (code, log) = DotnetProcess.Run(Path("Host"), "run", "--no-build", "--", Path("images.bin"), count.ToString(System.Globalization.CultureInfo.InvariantCulture), Path("outputs.txt"));
        Assert.True(code == 0, log);
        return ParseLines(File.ReadAllLines(Path("outputs.txt")));
    }

    /// <summary>"label index base64" lines, indices in order from 0, to label → outputs.</summary>
    public static Dictionary<string, float[][]> ParseLines(IEnumerable<string> lines)
    {
        var outputs = new Dictionary<string, List<float[]>>(StringComparer.Ordinal);
        foreach (var line in lines.Where(l => l.Length > 0))
        {
            var fields = line.Split(' ');
            Assert.True(fields.Length == 3, $"unexpected line: {line[..Math.Min(200, line.Length)]}");
            if (!outputs.TryGetValue(fields[0], out var list)) outputs[fields[0]] = list = [];
            Assert.Equal(list.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), fields[1]);
            var bytes = Convert.FromBase64String(fields[2]);
            var values = new float[bytes.Length / 4];
            Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
            list.Add(values);
        }
        return outputs.ToDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal);
    }

    /// <summary>Asserts two runs' outputs equal bit for bit (NaN payloads and the sign of zero included).</summary>
    public static void AssertBitIdentical(float[][] expected, float[][] actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} outputs instead of {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(expected[i].Length == actual[i].Length, $"{what}, image {i}: length {actual[i].Length} instead of {expected[i].Length}");
            for (int j = 0; j < expected[i].Length; j++)
                Assert.True(BitConverter.SingleToInt32Bits(expected[i][j]) == BitConverter.SingleToInt32Bits(actual[i][j]),
                    $"{what}, image {i}, output {j}: {actual[i][j]} instead of {expected[i][j]}");
        }
    }

    /// <summary>The names of the assemblies a built assembly references (what it needs at run time).</summary>
    public static string[] AssemblyReferences(string assemblyPath)
    {
        using var stream = File.OpenRead(assemblyPath);
        using var pe = new PEReader(stream);
        var reader = pe.GetMetadataReader();
        return reader.AssemblyReferences.Select(h => reader.GetString(reader.GetAssemblyReference(h).Name)).Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>The build log's warning count line ("N Warning(s)"): zero is what the tests expect.</summary>
    public static int Warnings(string log)
    {
        var line = log.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.EndsWith("Warning(s)", StringComparison.Ordinal));
        Assert.True(line is not null, $"no warning count in the build log:\n{log}");
        return int.Parse(line.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
