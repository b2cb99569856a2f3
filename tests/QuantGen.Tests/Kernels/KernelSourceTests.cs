extern alias generator;

using System.Reflection;
using System.Reflection.Emit;
using System.Text.RegularExpressions;
using QuantGen.Generated;
using QuantGenGenerator = generator::QuantGen.Generator.QuantGenGenerator;

namespace QuantGen.Tests.Kernels;

/// <summary>
/// The guards of src/QuantGen.Kernels as the generator ships it: every kernel file is embedded (none silently
/// missing from the consumers' code), and no SIMD path is silently dropped. A misspelt symbol (<c>#if
/// QUANTGEN_INTRINSIC</c>) would compile everywhere and leave the bit-exact tests passing, both sides taking the
/// scalar loop: <see cref="ConditionalSymbolsAreKnown"/> refuses any symbol but the known ones, and
/// <see cref="EveryPrivateKernelMethodIsCalled"/> finds a SIMD method whose dispatch was dropped (it is then never
/// called) in the net10.0 build the tests reference.
/// </summary>
public sealed partial class KernelSourceTests
{
    /// <summary>The preprocessor symbols the kernel files may test: the generator's, and nothing else.</summary>
    private static readonly string[] KnownSymbols = ["QUANTGEN_INTRINSICS"];

    private static string KernelsDirectory => Path.Combine(TestPaths.RepoRoot, "src", "QuantGen.Kernels");

    private static IEnumerable<string> KernelFiles() =>
        Directory.EnumerateFiles(KernelsDirectory, "*.cs", SearchOption.AllDirectories)
            .Where(f => !Path.GetRelativePath(KernelsDirectory, f).Split(Path.DirectorySeparatorChar).Any(part => part is "obj" or "bin"));

    [Fact]
    public void EveryKernelFileIsEmbeddedInTheGenerator()
    {
        var files = KernelFiles().Select(f => "QuantGen.Kernels/" + Path.GetRelativePath(KernelsDirectory, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal).ToArray();
        var resources = typeof(QuantGenGenerator).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("QuantGen.Kernels/", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();
        Assert.NotEmpty(files);
        Assert.Equal(files, resources);
        // And each resource is the file as it is now (a stale build would embed an older text).
        foreach (var name in resources)
        {
            using var stream = typeof(QuantGenGenerator).Assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            Assert.Equal(File.ReadAllText(Path.Combine(KernelsDirectory, name["QuantGen.Kernels/".Length..])).ReplaceLineEndings("\n"), reader.ReadToEnd().ReplaceLineEndings("\n"));
        }
    }

    /// <summary>
    /// Every #if/#elif in the kernel files tests known symbols only, and the files hold no other directive that would
    /// change what the generator emits (#define, #undef: the generator owns the symbol), nor a using directive (the
    /// files are emitted one after another into one source: global:: names only).
    /// </summary>
    [Fact]
    public void ConditionalSymbolsAreKnown()
    {
        var problems = new List<string>();
        int conditionals = 0;
        foreach (var file in KernelFiles())
        {
            var lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
            {
                var line = lines[i].Trim();
                string where = $"{Path.GetFileName(file)}:{i + 1}: {line}";
                var directive = Directive().Match(line);
                if (!directive.Success)
                {
                    if (line.StartsWith("using ", StringComparison.Ordinal) && line.EndsWith(';')) problems.Add(where + " (a using directive)");
                    continue;
                }
                switch (directive.Groups[1].Value)
                {
                    case "if" or "elif":
                        conditionals++;
                        foreach (Match symbol in Symbol().Matches(Regex.Replace(directive.Groups[2].Value, @"//.*", "")))
                            if (symbol.Value is not ("true" or "false") && !KnownSymbols.Contains(symbol.Value)) problems.Add(where + $" (unknown symbol {symbol.Value})");
                        break;
                    case "else" or "endif" or "nullable" or "region" or "endregion" or "pragma":
                        break;
                    default:
                        problems.Add(where + " (a directive the kernel files do not use)");
                        break;
                }
            }
        }
        Assert.True(conditionals > 10, $"only {conditionals} #if in the kernel files: the SIMD paths are expected under QUANTGEN_INTRINSICS");
        Assert.Empty(problems);
    }

    /// <summary>
    /// In the net10.0 build (QUANTGEN_INTRINSICS defined), every method and constructor of the kernels but the kernel
    /// classes' public members (the entry points) and interface implementations is called, loaded or created by some
    /// other method of the assembly. A SIMD method whose
    /// dispatch lost its symbol (or was deleted) is no longer called and fails here, naming the method.
    /// </summary>
    [Fact]
    public void EveryPrivateKernelMethodIsCalled()
    {
        var assembly = typeof(QuantGenKernels).Assembly;
        // The SIMD methods exist only where QUANTGEN_INTRINSICS was defined.
        Assert.NotNull(typeof(QuantGenKernels).GetMethod("DotPackedAvx2", BindingFlags.NonPublic | BindingFlags.Static));
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        var types = assembly.GetTypes();
        var methods = types.SelectMany(t => t.GetMethods(all).Cast<MethodBase>().Concat(t.GetConstructors(all))).ToList();
        var called = new HashSet<(Module, int)>();
        foreach (var method in methods)
            foreach (var target in Callees(method))
                if (target.MetadataToken != method.MetadataToken || target.DeclaringType != method.DeclaringType)
                    called.Add((target.Module, Definition(target).MetadataToken));

        var interfaceMethods = types.Where(t => !t.IsInterface).SelectMany(t => t.GetInterfaces().SelectMany(i => t.GetInterfaceMap(i).TargetMethods)).ToHashSet();
        var uncalled = methods
            // The entry points: the public members of the kernel classes; every other method is a helper.
            .Where(m => !m.IsAbstract && !(m.IsPublic && !m.DeclaringType!.IsNested))
            .Where(m => !m.Name.Contains('<') && !m.DeclaringType!.Name.Contains('<'))
            .Where(m => !(m is MethodInfo info && interfaceMethods.Contains(info)))
            .Where(m => !(m is ConstructorInfo && m.IsStatic))
            .Where(m => !called.Contains((m.Module, m.MetadataToken)))
            .Select(m => $"{m.DeclaringType!.Name}.{m.Name}")
            .ToList();
        Assert.True(methods.Count > 50, $"{methods.Count} methods: is this the net10.0 build with the SIMD paths?");
        Assert.Empty(uncalled);
    }

    private static MethodBase Definition(MethodBase method) =>
        method is MethodInfo { IsGenericMethod: true } generic ? generic.GetGenericMethodDefinition()
        : method.DeclaringType is { IsGenericType: true } type ? MethodBase.GetMethodFromHandle(method.MethodHandle, type.GetGenericTypeDefinition().TypeHandle)!
        : method;

    /// <summary>The methods a method's IL calls, creates or loads (call, callvirt, newobj, ldftn, ldvirtftn), decoded by operand size.</summary>
    private static IEnumerable<MethodBase> Callees(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null) yield break;
        for (int i = 0; i < il.Length;)
        {
            OpCode op;
            if (il[i] == 0xFE) { op = TwoByte[il[i + 1]]; i += 2; }
            else { op = OneByte[il[i]]; i += 1; }
            int size = OperandSize(op.OperandType, il, i);
            if (op.OperandType == OperandType.InlineMethod)
            {
                MethodBase? target = null;
                try
                {
                    target = method.Module.ResolveMethod(BitConverter.ToInt32(il, i),
                        method.DeclaringType!.IsGenericType ? method.DeclaringType.GetGenericArguments() : null,
                        method.IsGenericMethod ? method.GetGenericArguments() : null);
                }
                catch (ArgumentException)
                {
                    // A member of another assembly the runtime cannot resolve in this context: not a kernel method.
                }
                if (target is not null && target.Module == method.Module) yield return target;
            }
            i += size;
        }
    }

    private static int OperandSize(OperandType type, byte[] il, int at) => type switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, at),
        _ => 4,
    };

    private static readonly OpCode[] OneByte = new OpCode[256], TwoByte = new OpCode[256];

    static KernelSourceTests()
    {
        foreach (var field in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            var op = (OpCode)field.GetValue(null)!;
            if (op.Size == 1) OneByte[(ushort)op.Value] = op;
            else TwoByte[(ushort)op.Value & 0xFF] = op;
        }
    }

    [GeneratedRegex(@"^#\s*(\w+)\b(.*)$")]
    private static partial Regex Directive();

    [GeneratedRegex(@"[A-Za-z_][A-Za-z0-9_]*")]
    private static partial Regex Symbol();
}
