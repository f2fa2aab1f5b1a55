package dev.trent.architecture;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;


import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaMethodCall;
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
                .should().dependOnClassesThat().haveFullyQualifiedName("dev.trent.web.ProblemException")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("org.springframework.http.ProblemDetail")
                .because("services throw domain exceptions; web (ProblemHandler) and the controllers map them to "
                        + "HTTP problem types (issue 13)")
                .check(classes);
    }

    /**
     * Issue 14: every console action goes through the services the REST API calls. The console
     * reads the database for its pages, only in ConsoleQueries, which calls no JDBC write (an
     * {@code insert ... returning} through a query method would escape this rule: review
     * ConsoleQueries' SQL), and writes nothing itself.
     */
    @Test
    void consoleWhenCheckedThenChangesNothingExceptThroughTheServices() {
        DescribedPredicate<JavaMethodCall> databaseWrite = DescribedPredicate.describe(
                "a JdbcOperations write (update, batchUpdate, execute)",
                call -> call.getTargetOwner().isAssignableTo(org.springframework.jdbc.core.JdbcOperations.class)
                        && java.util.Set.of("update", "batchUpdate", "execute").contains(call.getName()));
        noClasses().that().resideInAPackage("dev.trent.console..")
                .should().callMethodWhere(databaseWrite)
                .because("a console action must be the API's action: same service, same rules, same audit event")
                .check(classes);
        noClasses().that().resideInAPackage("dev.trent.console..")
                .and().doNotHaveSimpleName("ConsoleQueries")
                .should().dependOnClassesThat().areAssignableTo(org.springframework.jdbc.core.JdbcOperations.class)
                .orShould().dependOnClassesThat().areAssignableTo(javax.sql.DataSource.class)
                .because("the console's pages read through ConsoleQueries and act through the services")
                .check(classes);
    }

    /**
     * Trent's transactions are JDBC transactions (config.Transactions); a JPA transaction begun
     * inside one fails. So entities and repositories stay where JPA's own transaction manager
     * runs: operators' API keys and the REST certificate search.
     */
    @Test
    void jpaWhenCheckedThenOnlyApiKeysAndTheCertificateSearchUseIt() {
        noClasses().that().doNotHaveFullyQualifiedName("dev.trent.operator.ApiKeyService")
                .and().doNotHaveFullyQualifiedName("dev.trent.inventory.CertificateController")
                .and().doNotHaveFullyQualifiedName("dev.trent.operator.ApiKeyRepository")
                .and().doNotHaveFullyQualifiedName("dev.trent.inventory.CertificateRepository")
                .and().doNotHaveFullyQualifiedName("dev.trent.inventory.CertificateRecord")
                .and().doNotHaveFullyQualifiedName("dev.trent.operator.ApiKey")
                .should().dependOnClassesThat().areAssignableTo(org.springframework.data.repository.Repository.class)
                .orShould().dependOnClassesThat().areAnnotatedWith(jakarta.persistence.Entity.class)
                .orShould().dependOnClassesThat().areAssignableTo(jakarta.persistence.EntityManager.class)
                .because("JDBC transactions are the default (config.Transactions): a repository reached from one "
                        + "would begin a JPA transaction inside it, which JpaTransactionManager refuses")
                .check(classes);
        for (String owner : java.util.List.of("dev.trent.operator.ApiKeyService",
                "dev.trent.inventory.CertificateController")) {
            java.util.List<String> transactional = new java.util.ArrayList<>();
            for (com.tngtech.archunit.core.domain.JavaMethod m : classes.get(owner).getMethods()) {
                if (m.isAnnotatedWith(org.springframework.transaction.annotation.Transactional.class)) {
                    transactional.add(m.getName());
                    org.assertj.core.api.Assertions.assertThat(m.getAnnotationOfType(
                            org.springframework.transaction.annotation.Transactional.class).transactionManager())
                            .as("%s's transaction manager", m.getFullName())
                            .isEqualTo(dev.trent.config.Transactions.JPA);
                }
            }
            org.assertj.core.api.Assertions.assertThat(transactional).as(owner).isNotEmpty();
        }
    }

    @Test
    void slicesWhenCheckedThenFreeOfCycles() {
        slices().matching("dev.trent.(*)..").should().beFreeOfCycles().check(classes);
    }

}
