using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace QuantGen.Generator
{
    /// <summary>
    /// The identifier policy: every C# identifier the generator derives from a name (ONNX node, tensor, graph or input
    /// name; any characters at all) comes from here. An identifier holds ASCII letters and digits only, starts with a
    /// letter, is at most <see cref="MaxLength"/> chars (a longer one keeps its start and a hash of the whole name), and
    /// <see cref="UniqueNames"/> makes it unique with a stable hash suffix (docs/security.md, "Names never become code").
    /// </summary>
    internal static class Identifiers
    {
        /// <summary>Identifiers derived from names are capped here (C# allows 512 in metadata; a readable name is far shorter).</summary>
        public const int MaxLength = 64;

        /// <summary>
        /// Members every model class has, or inherits from object (a layer method named ToString would hide it: a warning,
        /// an error under TreatWarningsAsErrors): no identifier derived from a name may take them.
        /// </summary>
        public static readonly string[] ReservedMembers =
        {
            "Run", "InputLength", "OutputLength", "InputShape", "OutputShape",
            "Equals", "GetHashCode", "GetType", "ToString", "Finalize", "MemberwiseClone", "ReferenceEquals",
        };

        /// <summary>"fashion_cnn" → "FashionCnn", "/conv1/Conv" → "Conv1Conv"; over <see cref="MaxLength"/>: start + "_" + hash.</summary>
        public static string Pascal(string name)
        {
            var sb = new StringBuilder();
            bool upper = true;
            foreach (char c in name)
            {
                if (c < 128 && char.IsLetterOrDigit(c))
                {
                    sb.Append(upper ? char.ToUpperInvariant(c) : c);
                    upper = false;
                }
                else upper = true;
            }
            if (sb.Length == 0 || char.IsDigit(sb[0])) sb.Insert(0, "Model");
            if (sb.Length <= MaxLength) return sb.ToString();
            sb.Length = MaxLength - 9;
            return sb.Append('_').Append(Hash(name)).ToString();
        }

        /// <summary>camelCase for parameters, avoiding C# keywords (and nameof, which a parameter would shadow).</summary>
        public static string Camel(string name)
        {
            var pascal = Pascal(name);
            var camel = char.ToLowerInvariant(pascal[0]) + pascal.Substring(1);
            return Keywords.Contains(camel) ? "@" + camel : camel;
        }

        /// <summary>A class name from the project: ASCII letters, digits and '_', not starting with a digit, not a C# keyword.</summary>
        public static bool IsValidTypeName(string name)
        {
            if (name.Length == 0 || name.Length > 512 || char.IsDigit(name[0])) return false;
            foreach (char c in name)
                if (!(c < 128 && (char.IsLetterOrDigit(c) || c == '_'))) return false;
            return Microsoft.CodeAnalysis.CSharp.SyntaxFacts.GetKeywordKind(name) == Microsoft.CodeAnalysis.CSharp.SyntaxKind.None;
        }

        /// <summary>A namespace from the project: type-name-like parts joined by '.'.</summary>
        public static bool IsValidNamespace(string name) => System.Array.TrueForAll(name.Split('.'), IsValidTypeName);

        /// <summary>8 hex digits of the 32-bit FNV-1a hash of the name's UTF-16LE bytes: the same on every machine and run.</summary>
        public static string Hash(string name)
        {
            uint h = 2166136261;
            foreach (char c in name)
            {
                h = unchecked((h ^ (byte)c) * 16777619);
                h = unchecked((h ^ (byte)(c >> 8)) * 16777619);
            }
            return h.ToString("x8", CultureInfo.InvariantCulture);
        }

        /// <summary>
        /// Makes identifiers unique. A taken identifier gets "_" + the hash of the name it came from (so its spelling does
        /// not depend on which other names the model has), then, for the same name twice, "_2", "_3", … after that.
        /// </summary>
        public sealed class UniqueNames
        {
            private readonly HashSet<string> _used = new();

            public bool IsFree(string identifier) => !_used.Contains(identifier);

            public string Take(string identifier) => Take(identifier, identifier);

            public string Take(string identifier, string source)
            {
                if (_used.Add(identifier)) return identifier;
                var hashed = identifier + "_" + Hash(source);
                var candidate = hashed;
                for (int i = 2; !_used.Add(candidate); i++) candidate = hashed + "_" + i.ToString(CultureInfo.InvariantCulture);
                return candidate;
            }

            /// <summary>
            /// A prefix P such that P + each suffix is free, all of them taken: "Logits" → LogitsLength, LogitsShape.
            /// </summary>
            public string TakeGroup(string prefix, string source, params string[] suffixes)
            {
                var candidate = prefix;
                for (int i = 1; !IsFree(candidate) || System.Array.Exists(suffixes, s => !IsFree(candidate + s)); i++)
                    candidate = prefix + "_" + Hash(source) + (i == 1 ? "" : "_" + i.ToString(CultureInfo.InvariantCulture));
                _used.Add(candidate);
                foreach (var s in suffixes) _used.Add(candidate + s);
                return candidate;
            }
        }

        private static readonly HashSet<string> Keywords = new()
        {
            "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const", "continue",
            "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern", "false", "finally",
            "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface", "internal", "is", "lock",
            "long", "namespace", "new", "null", "object", "operator", "out", "override", "params", "private", "protected",
            "public", "readonly", "ref", "return", "sbyte", "sealed", "short", "sizeof", "stackalloc", "static", "string",
            "struct", "switch", "this", "throw", "true", "try", "typeof", "uint", "ulong", "unchecked", "unsafe", "ushort",
            "using", "virtual", "void", "volatile", "while", "nameof",
        };
    }
}
