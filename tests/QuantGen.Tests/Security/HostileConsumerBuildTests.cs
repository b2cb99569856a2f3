using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using QuantGen.Tests.EndToEnd;

namespace QuantGen.Tests.Security;

/// <summary>
/// The exploit, as a user would meet it: a real `dotnet build` of a console project with a QuantModel item
/// naming a hostile ONNX file (a Relu fused into a Gemm whose node name carries a class with a [ModuleInitializer],
/// a tensor name with U+2028 and a class, #error after CR LF, a string break, bidi). The build must succeed with no
/// QG diagnostic, the app must print only its own line, and the assembly's types, listed with
/// System.Reflection.Metadata, must be the program's, the model class, the generated kernels and what the compiler
/// itself adds: no type and no module initializer the model did not ask for.
/// </summary>
public sealed class HostileConsumerBuildTests
{
    private const string Program = """
        var model = new Consumer.Hostile();
        var y = new float[Consumer.Hostile.OutputLength];
        model.Run(new float[Consumer.Hostile.InputLength], y);
        Console.WriteLine("ran " + y.Length);
        """;

    [Fact]
    public void AHostileModelBuildsAnAssemblyWithNoInjectedType()
    {
        using var project = new ConsumerProject("""<QuantModel Include="Models/hostile.onnx" ClassName="Hostile" Namespace="Consumer" InputRange="0,1" />""", Program);
        Directory.CreateDirectory(project.Path("Models"));
        File.WriteAllBytes(project.Path("Models", "hostile.onnx"), HostileModelTests.GemmRelu(HostileModelTests.Hostile));

        var (code, log) = project.Build();
        Assert.True(code == 0, log);
        Assert.DoesNotContain(": error ", log);
        Assert.DoesNotContain(": warning QG", log);
        Assert.DoesNotContain(": warning CS", log);

        var (runCode, runLog) = project.Dotnet("run", "--no-build");
        Assert.True(runCode == 0, runLog);
        Assert.Equal("ran 3", runLog.Trim());

        var types = TypesAndInitializers(project.Path("bin", "Debug", "net10.0", "Consumer.dll"), out var moduleInitializers);
        Assert.Empty(moduleInitializers);
        var unexpected = types.Where(t => !Expected(t)).ToList();
        Assert.True(unexpected.Count == 0, "types the model did not ask for: " + string.Join(", ", unexpected) + "\nall: " + string.Join(", ", types));
        Assert.Contains("Consumer.Hostile", types);
        Assert.Contains("QuantGen.Generated.QuantGenKernels", types);
    }

    /// <summary>
    /// The build task's MSBuild error for a failing node whose name holds a forged diagnostic after LF, CR LF, U+2028
    /// and U+0085: one QG0003 error, and no line of the build's output where a forged "Secrets.cs : error" starts.
    /// </summary>
    [Fact]
    public void AFailingNodesNameCannotForgeAnMsBuildError()
    {
        using var project = new ConsumerProject("""<QuantModel Include="Models/forged.onnx" ClassName="Forged" Namespace="Consumer" />""", "Console.WriteLine();");
        Directory.CreateDirectory(project.Path("Models"));
        var forged = "n\nSecrets.cs : error QG0001: lf\r\nSecrets.cs : error QG0001: crlf\u2028Secrets.cs : error QG0001: ls\u0085Secrets.cs : error QG0001: nel";
        File.WriteAllBytes(project.Path("Models", "forged.onnx"), QuantGen.Tests.BadInput.ModelBuilder.Relu(m =>
        {
            m.Graph.Node[0].OpType = "NoSuchOp";
            m.Graph.Node[0].Name = forged;
        }));

        var (code, log) = project.Build();
        Assert.NotEqual(0, code);
        var lines = log.Split('\n');
        Assert.Contains(lines, l => l.Contains("error QG0003", StringComparison.Ordinal) && l.Contains("n\\u000ASecrets.cs : error QG0001: lf", StringComparison.Ordinal));
        var forgedLines = lines.Where(l => l.Contains("Secrets.cs", StringComparison.Ordinal) && !l.Contains("error QG0003", StringComparison.Ordinal)).ToList();
        Assert.True(forgedLines.Count == 0, string.Join("\n", forgedLines));
        Assert.DoesNotContain(lines, l => l.Contains('\u2028') || l.Contains('\u0085'));
    }

    /// <summary>The program, the model class, the attribute, the kernels (and their nested types, and the float kernels), compiler-generated types.</summary>
    private static bool Expected(string type) =>
        type is "Program" or "Consumer.Hostile" or "QuantGen.QuantizedModelAttribute" or "QuantGen.Generated.QuantGenKernels" or "QuantGen.Generated.QuantGenFloatKernels"
        || type.StartsWith("QuantGen.Generated.QuantGenKernels/", StringComparison.Ordinal)
        || type.StartsWith("QuantGen.Generated.QuantGenFloatKernels/", StringComparison.Ordinal)
        || type.StartsWith('<') || type.StartsWith("Program/<", StringComparison.Ordinal) || type.StartsWith("Consumer.Hostile/<", StringComparison.Ordinal)
        || type.StartsWith("Microsoft.CodeAnalysis.", StringComparison.Ordinal) && type.EndsWith("Attribute", StringComparison.Ordinal)
        || type.StartsWith("System.Runtime.CompilerServices.", StringComparison.Ordinal) && type.EndsWith("Attribute", StringComparison.Ordinal)
           && !type.Contains('/') && type.Count(c => c == '.') == 3;

    /// <summary>Every type definition ("Namespace.Name", nested "Outer/Inner"), and every method carrying [ModuleInitializer].</summary>
    private static List<string> TypesAndInitializers(string assemblyPath, out List<string> moduleInitializers)
    {
        using var pe = new PEReader(File.OpenRead(assemblyPath));
        var md = pe.GetMetadataReader();
        string Name(TypeDefinitionHandle h)
        {
            var t = md.GetTypeDefinition(h);
            var declaring = t.GetDeclaringType();
            if (!declaring.IsNil) return Name(declaring) + "/" + md.GetString(t.Name);
            var ns = md.GetString(t.Namespace);
            return ns.Length == 0 ? md.GetString(t.Name) : ns + "." + md.GetString(t.Name);
        }
        moduleInitializers = [];
        foreach (var handle in md.MethodDefinitions)
        {
            var method = md.GetMethodDefinition(handle);
            foreach (var a in method.GetCustomAttributes())
            {
                var ctor = md.GetCustomAttribute(a).Constructor;
                var typeName = ctor.Kind == HandleKind.MemberReference
                    ? md.GetMemberReference((MemberReferenceHandle)ctor).Parent is { Kind: HandleKind.TypeReference } parent
                        ? md.GetString(md.GetTypeReference((TypeReferenceHandle)parent).Name) : ""
                    : md.GetString(md.GetTypeDefinition(md.GetMethodDefinition((MethodDefinitionHandle)ctor).GetDeclaringType()).Name);
                if (typeName == "ModuleInitializerAttribute") moduleInitializers.Add(Name(method.GetDeclaringType()) + "." + md.GetString(method.Name));
            }
        }
        return md.TypeDefinitions.Select(Name).Order(StringComparer.Ordinal).ToList();
    }
}
