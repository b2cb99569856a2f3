using Microsoft.CodeAnalysis;

namespace QuantGen.Generator
{
    /// <summary>Every diagnostic the generator reports. IDs are stable: QG1xxx belong to the generator.</summary>
    internal static class DiagnosticDescriptors
    {
        private const string Category = "QuantGen";
        private const string HelpLink = "https://github.com/quantgen/quantgen/blob/main/docs/diagnostics.md";

        public static readonly DiagnosticDescriptor BadArtifact = new(
            "QG1001", "Unreadable quantized artifact", "The quantized artifact '{0}' cannot be read: {1}",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpLink);

        public static readonly DiagnosticDescriptor NoArtifactForAttribute = new(
            "QG1002", "No quantized model for the attribute", "No QuantModel item produces '{0}': add <QuantModel Include=\"{0}\" /> to the project",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpLink);

        public static readonly DiagnosticDescriptor ClassNotPartial = new(
            "QG1003", "Model class must be partial", "The class '{0}' carries [QuantizedModel] and must be declared partial",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpLink);

        public static readonly DiagnosticDescriptor NestedClass = new(
            "QG1004", "Model class must be top level", "The class '{0}' carries [QuantizedModel] but is nested in another type: declare it at namespace level",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpLink);

        public static readonly DiagnosticDescriptor ModelDataTooLarge = new(
            "QG1005", "Model data too large for one assembly",
            "The quantized models of this project need {0} bytes of string-literal data ({1}), over the budget of {2} bytes: an assembly's string literals must fit in 16 MiB; put the largest models in separate assemblies",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpLink);

        public static readonly DiagnosticDescriptor DuplicateModelClass = new(
            "QG1006", "Two models generate the same class",
            "The quantized model '{0}' would generate the class '{1}', as another model of this project does: give each QuantModel item its own ClassName or Namespace",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpLink);

        // ---- Hostile models, names (issue 19): QG1030-QG1039 are this block's (docs/security.md, "Names never become code"). ----

        public static readonly DiagnosticDescriptor InvalidGeneratedName = new(
            "QG1030", "Class or namespace name is not a C# identifier",
            "The quantized model '{0}' would generate {1} '{2}', which is not a C# identifier (ASCII letters, digits and '_', not starting with a digit, not a keyword; a namespace is such names joined by '.'): set the QuantModel item's {3}",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpLink);

        public static readonly DiagnosticDescriptor InconsistentArtifact = new(
            "QG1031", "Inconsistent quantized artifact",
            "The quantized artifact '{0}' reads but is not a model the generator can trust: {1}; it was changed after the build task wrote it, or the task has a bug: rebuild",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpLink);

        // ---- Hostile artifacts (issue 19, geometry and budget half): QG1040-QG1069 ----

        public static readonly DiagnosticDescriptor BadArtifactGeometry = new(
            "QG1040", "Quantized artifact with invalid geometry",
            "The quantized artifact '{0}' describes a layer the generator will not emit: {1}; rebuild the model (the artifact in obj/ is re-validated, never trusted)",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpLink);

        public static readonly DiagnosticDescriptor GeneratedCodeOverBudget = new(
            "QG1041", "Generated model over the resource budget",
            "The quantized artifact '{0}' is over the generator's budget: {1} (raise it with the QuantModel metadata MaxGeneratedSourceChars=\"…\")",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpLink);
    }
}
