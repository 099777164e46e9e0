package io.edgestreaming.templates;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Custom data sets: expression syntax, projection, and every refusal with its message. */
class CustomTemplatesTest {

    private static String project(DataSource source, String model, String event) throws Exception {
        CompiledTemplate t = CompiledTemplate.compile(Templates.custom(source, model));
        return new String(t.project(event.getBytes(StandardCharsets.UTF_8)), StandardCharsets.US_ASCII);
    }

    private static TemplateException refusal(DataSource source, String model) {
        return catchThrowableOfType(TemplateException.class, () -> Templates.custom(source, model));
    }

    @Test
    void wholeVariablesLiteralsAndEmbeddedVariables() throws Exception {
        String model = """
                {"time":"$time","url":"$scheme://$host$request_uri","hostport":"${host}:8080","fixed":"-",\
                "bytes":"$bytes_sent","mixed":"[$status] ${request_method}x"}""";
        String event = """
                {"time":"t1","scheme":"https","host":"a.example","request_uri":"/p?q=1","status":404,\
                "request_method":"GET"}""";
        assertThat(project(DataSource.HTTP, model, event)).isEqualTo(
                "{\"time\":\"t1\",\"url\":\"https://a.example/p?q=1\",\"hostport\":\"a.example:8080\","
                        + "\"fixed\":\"-\",\"bytes\":\"-\",\"mixed\":\"[404] GETx\"}");
    }

    @Test
    void missingVariablesInsideTextBecomeDash() throws Exception {
        assertThat(project(DataSource.HTTP, "{\"url\":\"$scheme://$host$request_uri\"}", "{\"host\":\"h\"}"))
                .isEqualTo("{\"url\":\"-://h-\"}");
    }

    @Test
    void dollarRules() throws Exception {
        // $$ is one literal $, a $ not followed by a name/{ /$ stays as is, ${x} delimits.
        String model = """
                {"a":"$$host","b":"US$ 5","c":"$","d":"100$","e":"$5","f":"$$$host","g":"${host}name"}""";
        assertThat(project(DataSource.HTTP, model, "{\"host\":\"h\"}")).isEqualTo(
                "{\"a\":\"$host\",\"b\":\"US$ 5\",\"c\":\"$\",\"d\":\"100$\",\"e\":\"$5\",\"f\":\"$h\",\"g\":\"hname\"}");
    }

    @Test
    void keysAndLiteralsAreEscapedToAscii() throws Exception {
        String model = "{\"k\\\"é\":\"x\\\\y\\n€ $status\"}";
        assertThat(project(DataSource.HTTP, model, "{\"status\":\"200\"}"))
                .isEqualTo("{\"k\\\"\\u00e9\":\"x\\\\y\\n\\u20ac 200\"}");
    }

    @Test
    void wafCustomTemplate() throws Exception {
        assertThat(project(DataSource.WAF, "{\"who\":\"$client@$host\",\"args\":\"$waf_args\"}",
                "{\"client\":\"4529r\",\"host\":\"h\",\"waf_args\":[1,\"a\",true,null,1.5e3]}"))
                .isEqualTo("{\"who\":\"4529r@h\",\"args\":\"[1,\\\"a\\\",true,null,1.5e3]\"}");
    }

    @Test
    void refusesInvalidJson() {
        TemplateException e = refusal(DataSource.HTTP, "{\"time\":\"$time\",");
        assertThat(e.problems()).singleElement().asString().startsWith("template_model is not valid JSON")
                .contains("line 1");
        assertThat(refusal(DataSource.HTTP, "{\"a\":\"$time\"} x").problems()).singleElement().asString()
                .startsWith("template_model is not valid JSON");
        assertThat(refusal(DataSource.HTTP, "").problems()).singleElement().asString()
                .startsWith("template_model is missing");
    }

    @Test
    void refusesNonObject() {
        assertThat(refusal(DataSource.HTTP, "[\"$time\"]").problems()).containsExactly(
                "template_model must be a JSON object of output key to expression, got an array");
        assertThat(refusal(DataSource.HTTP, "\"$time\"").getMessage()).contains("got a string");
    }

    @Test
    void refusesNonStringValues() {
        TemplateException e = refusal(DataSource.HTTP, "{\"a\":5,\"b\":{\"x\":\"$host\"},\"c\":null,\"d\":\"$host\"}");
        assertThat(e.problems()).containsExactly(
                "key \"a\": value must be a string expression such as \"$status\", got a number",
                "key \"b\": value must be a string expression such as \"$status\", got an object",
                "key \"c\": value must be a string expression such as \"$status\", got null");
    }

    @Test
    void refusesUnknownVariablesNamingTheClosest() {
        TemplateException e = refusal(DataSource.HTTP, "{\"bytes\":\"$byte_sent\",\"h\":\"$hostname\"}");
        assertThat(e.problems()).hasSize(2);
        assertThat(e.problems().get(0)).startsWith("key \"bytes\": unknown variable $byte_sent in \"$byte_sent\"")
                .contains("closest http variables: $bytes_sent");
        assertThat(e.problems().get(1)).startsWith("key \"h\": unknown variable $hostname")
                .contains("$host").contains("${name}");
    }

    @Test
    void refusesVariablesOfTheOtherDataSource() {
        TemplateException e = refusal(DataSource.HTTP, "{\"args\":\"$waf_args\",\"s\":\"$status\"}");
        assertThat(e.problems()).singleElement().asString()
                .startsWith("key \"args\": variable $waf_args is not available for data source http"
                        + " (data source waf has it); closest http variables: ");
        TemplateException w = refusal(DataSource.WAF, "{\"st\":\"$status\"}");
        assertThat(w.problems()).singleElement().asString()
                .contains("$status is not available for data source waf (data source http has it)")
                .contains("closest waf variables:");
    }

    @Test
    void aVariableUsedTwiceInOneValueIsReportedOnce() {
        assertThat(refusal(DataSource.HTTP, "{\"a\":\"$nope-$nope\"}").problems()).hasSize(1);
    }

    @Test
    void longNamesAreCappedInMessages() {
        String longName = "x".repeat(5000);
        TemplateException e = refusal(DataSource.HTTP, "{\"" + longName + "\":\"$" + longName + "\"}");
        assertThat(e.getMessage()).hasSizeLessThan(1000).contains("(5000 chars)");
    }

    @Test
    void refusesAMissingDataSourceOrModel() {
        assertThat(refusal(null, "{\"s\":\"$status\"}").problems()).containsExactly(
                "data_source is required to check the template's variables (http or waf)");
        assertThat(refusal(DataSource.HTTP, null).problems()).singleElement().asString()
                .startsWith("template_model is missing");
    }

    @Test
    void refusesEmptyDataSet() {
        assertThat(refusal(DataSource.HTTP, "{}").problems()).containsExactly(
                "template_model is empty: a data set needs at least one key, e.g. {\"status\":\"$status\"}");
    }

    @Test
    void refusesBrokenBracesAndDuplicateKeys() {
        TemplateException e = refusal(DataSource.HTTP, "{\"a\":\"${host\",\"b\":\"${}\",\"a\":\"$host\"}");
        assertThat(e.problems()).containsExactly(
                "key \"a\": unclosed \"${\" at position 0 in \"${host\" (write $$ for a literal $)",
                "key \"b\": \"${}\" at position 0 is not a variable name (letters, digits and _, not starting"
                        + " with a digit) in \"${}\" (write $$ for a literal $)",
                "key \"a\" appears more than once");
    }

    @Test
    void reportsEveryProblemAtOnce() {
        TemplateException e = refusal(DataSource.WAF, "{\"a\":\"$nope\",\"b\":1,\"c\":\"$status\",\"d\":\"$host\"}");
        assertThat(e.problems()).hasSize(3);
        assertThat(e.getMessage()).contains("$nope").contains("\"b\"").contains("$status");
    }

    @Test
    void customTemplateRemembersItsDataSourceAndOrder() throws Exception {
        Template t = Templates.custom(DataSource.WAF, "{\"z\":\"$host\",\"a\":\"$client\"}");
        assertThat(t.id()).isNull();
        assertThat(t.dataSource()).isEqualTo(DataSource.WAF);
        assertThat(t.entries()).extracting(Template.Entry::key).containsExactly("z", "a");
    }
}
