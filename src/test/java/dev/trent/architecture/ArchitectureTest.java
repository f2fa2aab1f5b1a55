package dev.trent.architecture;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.belongToAnyOf;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.conditions.ArchPredicates.are;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;

/**
 * The package rules of DESIGN.md, checked on the compiled classes: the leaf packages depend on no
 * capability, the slices {@code dev.trent.(*)} form no cycle (the last one, issuance and
 * inventory, went with issue 13), and only {@code web} and the controllers speak in
 * HTTP problems.
 */
class ArchitectureTest {

    private static final String ROOT = "dev.trent.";

    /**
     * Classes outside {@code web} that still build HTTP problems although they are no
     * controllers: the services and stages of the packages just refactored (issuance,
     * enrollment, est). Shrinks as they get domain exceptions; never grows.
     */
    private static final Set<String> KNOWN_SERVICE_PROBLEMS = Set.of(
            "dev.trent.enrollment.EnrollmentService",
            "dev.trent.enrollment.EnrollmentTokenService",
            "dev.trent.enrollment.EnrollmentMetrics",
            "dev.trent.enrollment.EnrollmentProblems",
            "dev.trent.enrollment.EnrollmentStages",
            "dev.trent.est.EstRequests",
            "dev.trent.issuance.IssuanceService",
            "dev.trent.issuance.IssuanceStages");

    private static final Set<String> PROBLEM_TYPES = Set.of("dev.trent.web.ProblemException",
            "org.springframework.http.ProblemDetail");

    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.trent");
    }

    @Test
    void leafPackagesWhenCheckedThenDependOnNoCapability() {
        noClasses().that().resideInAnyPackage("dev.trent.pki..", "dev.trent.profile..", "dev.trent.domain..")
                .should().dependOnClassesThat(resideInAnyPackage("dev.trent..")
                        .and(not(resideInAnyPackage("dev.trent.pki..", "dev.trent.profile..", "dev.trent.domain.."))))
                .because("pki, profile and domain are the leaves every capability builds on (DESIGN.md)")
                .check(classes);
    }

    @Test
    void webWhenCheckedThenDependsOnNoCapability() {
        noClasses().that().resideInAPackage("dev.trent.web..")
                .should().dependOnClassesThat(resideInAnyPackage("dev.trent..")
                        .and(not(resideInAnyPackage("dev.trent.web..", "dev.trent.config..", "dev.trent.pki..",
                                "dev.trent.domain.."))))
                .because("web maps domain failures to problem+json without knowing the domains (issue 13)")
                .check(classes);
    }

    @Test
    void problemsWhenCheckedThenOnlyWebAndControllersBuildThem() {
        noClasses().that().resideOutsideOfPackage("dev.trent.web..")
                .and().areNotAnnotatedWith(org.springframework.web.bind.annotation.RestController.class)
                .and().areNotAnnotatedWith(org.springframework.stereotype.Controller.class)
                .and().areNotAnnotatedWith(org.springframework.web.bind.annotation.ControllerAdvice.class)
                .and().areNotAnnotatedWith(org.springframework.web.bind.annotation.RestControllerAdvice.class)
                .and().doNotImplement(dev.trent.web.ProblemListener.class)
                .and(are(not(belongToAnyOf(knownServiceProblems()))))
                .should().dependOnClassesThat().haveFullyQualifiedName("dev.trent.web.ProblemException")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("org.springframework.http.ProblemDetail")
                .because("services throw domain exceptions; web (ProblemHandler) and the controllers map them to "
                        + "HTTP problem types (issue 13)")
                .check(classes);
    }

    @Test
    void slicesWhenCheckedThenFreeOfCycles() {
        slices().matching("dev.trent.(*)..").should().beFreeOfCycles().check(classes);
    }

    @Test
    void knownServiceProblemsStillBuildProblems() {
        for (String name : KNOWN_SERVICE_PROBLEMS) {
            assertThat(classes.stream().filter(c -> c.getName().equals(name) || c.getName().startsWith(name + "$"))
                    .flatMap(c -> c.getDirectDependenciesFromSelf().stream())
                    .anyMatch(d -> PROBLEM_TYPES.contains(d.getTargetClass().getName())))
                    .as("%s no longer builds problems: remove it from KNOWN_SERVICE_PROBLEMS", name).isTrue();
        }
    }

    private static Class<?>[] knownServiceProblems() {
        return KNOWN_SERVICE_PROBLEMS.stream().map(n -> {
            try {
                return Class.forName(n, false, ArchitectureTest.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new AssertionError(n + " is gone: remove it from KNOWN_SERVICE_PROBLEMS", e);
            }
        }).toArray(Class<?>[]::new);
    }
}
